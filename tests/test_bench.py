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
