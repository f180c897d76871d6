"""Smoke test of ``xact bench``: one activation, one tiny size, structure only (no timings asserted)."""

from __future__ import annotations

import argparse
import json

import pytest
from conftest import HAS_TF, HAS_TORCH

pytestmark = pytest.mark.skipif(not (HAS_TORCH or HAS_TF), reason="no framework installed")

pytest.importorskip("rich")


def test_bench_quick_writes_json_with_ratios(tmp_path):
    from xact.bench import run_bench

    frameworks = [fw for fw, ok in (("torch", HAS_TORCH), ("tf", HAS_TF)) if ok]
    args = argparse.Namespace(
        activations=["leaky_relu"], framework=frameworks, sizes="256", quick=True,
        out=str(tmp_path), no_compile=True,  # compilation alone would take longer than the test
    )
    assert run_bench(args) == 0

    result = json.loads((tmp_path / "bench.json").read_text())
    assert {"config", "machine", "bandwidth", "import_time", "rows", "targets"} <= set(result)
    rows = result["rows"]
    assert {r["framework"] for r in rows} == set(frameworks)
    for r in rows:
        assert r["activation"] == "leaky_relu" and r["size"] == 256
        assert r["median_s"] > 0 and r["samples"] >= 1
        assert r["reference"] is not None and r["ratio"] > 0
        assert 0 < r["bound_fraction"]
        assert "memory" in r  # the memory size is the only size here
    for fw in frameworks:
        keys = {r["impl"] for r in rows if r["framework"] == fw}
        assert {"xact_native", "xact_bridge", "builtin", "numpy_vectorized", "seed"} <= keys
        builtin = next(r for r in rows if r["framework"] == fw and r["impl"] == "builtin")
        assert builtin["ratio"] == 1.0
    assert any(t["id"] == "import-time" for t in result["targets"])
    assert all(t["met"] in (True, False, None) for t in result["targets"])
    assert (tmp_path / "bench.md").read_text().startswith("Machine:")


def test_bench_runs_an_activation_without_hand_written_baselines(tmp_path):
    from xact.bench import run_bench

    frameworks = [fw for fw, ok in (("torch", HAS_TORCH), ("tf", HAS_TF)) if ok]
    args = argparse.Namespace(activations=["sigmoid"], framework=frameworks, sizes="128", quick=True,
                              out=str(tmp_path), no_compile=True)
    assert run_bench(args) == 0
    rows = json.loads((tmp_path / "bench.json").read_text())["rows"]
    keys = {r["impl"] for r in rows}
    assert {"xact_native", "builtin"} <= keys and "seed" not in keys


def test_bench_interrupted_keeps_what_it_measured(tmp_path, monkeypatch):
    import importlib

    from xact.bench import run_bench

    fw = "torch" if HAS_TORCH else "tf"
    suite = importlib.import_module(f"xact.bench.{fw}_suite")
    real = suite.implementations
    calls = []

    def interrupt_on_second_cell(*a, **k):
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(suite, "implementations", interrupt_on_second_cell)
    args = argparse.Namespace(activations=["leaky_relu"], framework=[fw], sizes="64,128", quick=True,
                              out=str(tmp_path), no_compile=True)
    assert run_bench(args) == 130
    result = json.loads((tmp_path / "bench.json").read_text())
    assert result["interrupted"] is True
    assert {r["size"] for r in result["rows"]} == {64}
    assert not (tmp_path / "bench.partial.json").exists()


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_bench_model_epoch_rows(tmp_path):
    from xact.bench import models

    rows = models.measure(("leaky_relu",), ("torch-eager-b256",), budget_s=0.01, min_reps=1, max_reps=1,
                          log=lambda s: None)
    (r,) = rows
    assert r["form"] == "torch-eager-b256" and r["activation"] == "leaky_relu"
    assert r["xact_epoch_s"] > 0 and r["builtin_epoch_s"] > 0
    assert r["ratio"] == r["xact_epoch_s"] / r["builtin_epoch_s"] and r["met"] == (r["ratio"] <= 1.3)
    assert "| torch eager, batch 256 | leaky_relu |" in models.markdown(rows, "test machine")
