"""The parity record finds known framework differences by measurement.

Each test runs :func:`xact.parity.build_record` on a few specs (one module-
scoped record, so the frameworks are measured once) and checks that the
record states what the frameworks are publicly known to do differently. The
expected numbers are read from the installed frameworks' signatures where
the statement is about a default, never typed here.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest

pytest.importorskip("mpmath")
torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

SPECS = ["leaky_relu", "gelu", "gelu_tanh", "elu", "hard_tanh", "celu", "prelu"]


@pytest.fixture(scope="module")
def record() -> dict[str, Any]:
    from xact.parity import build_record

    return build_record(SPECS, frameworks=["torch", "tf", "keras", "onnx"])


def _builtin(record: dict[str, Any], call: str) -> dict[str, Any]:
    return next(b for b in record["builtins"] if b["call"] == call)


def _texts(b: dict[str, Any], kind: str | None = None) -> list[str]:
    return [d["text"] for d in b["differences"] if kind is None or d["kind"] == kind]


def test_keras_leaky_relu_layer_default_found_by_measurement(record: dict[str, Any]) -> None:
    keras_default = inspect.signature(keras.layers.LeakyReLU.__init__).parameters["negative_slope"].default
    torch_default = inspect.signature(torch.nn.LeakyReLU.__init__).parameters["negative_slope"].default
    assert keras_default != torch_default  # the premise: the frameworks differ
    b = _builtin(record, "keras.layers.LeakyReLU")
    decl = next(d for d in b["declared_for"] if d["spec"] == "leaky_relu")
    assert decl["defaults_match"] is False
    assert decl["default_differences"][0]["default"] == keras_default
    # measured: under its defaults it computes leaky_relu at Keras' slope, not at torch's
    matches = b["matches_under_defaults"]
    assert any(m["spec"] == "leaky_relu" and m["params"]["negative_slope"] == pytest.approx(keras_default)
               for m in matches)
    run = next(r for r in b["runs"] if r["label"] == "defaults-as-spec")
    assert run["float32"]["value"]["max_ulp"] <= 1
    assert any(f"negative_slope={keras_default}" in t for t in _texts(b, "defaults"))
    torch_b = _builtin(record, "torch.nn.LeakyReLU")
    assert all(d["defaults_match"] for d in torch_b["declared_for"])


def test_gelu_approximate_default_differs_between_keras_ops_and_torch(record: dict[str, Any]) -> None:
    kops = _builtin(record, "keras.ops.gelu")
    tgelu = _builtin(record, "torch.nn.functional.gelu")
    assert [m["spec"] for m in kops["matches_under_defaults"]] == ["gelu_tanh"]
    assert [m["spec"] for m in tgelu["matches_under_defaults"]] == ["gelu"]
    cross = record["cross"]["gelu"]
    pair = next(p for p in cross["pairs"] if {p["a"], p["b"]} == {"torch.nn.functional.gelu", "keras.ops.gelu"})
    # the tanh approximation is ~5e-4 off erf: far beyond any rounding
    assert pair["float32"]["value"]["max_rel"] > 1e-4
    assert any("keras.ops.gelu" in s and "torch.nn.functional.gelu" in s for s in cross["statements"])


def test_kink_gradient_differences_are_found(record: dict[str, Any]) -> None:
    hard = _builtin(record, "keras.activations.hard_tanh")
    kinks = next(r for r in hard["runs"] if r["label"] == "twin")["kinks"]
    assert any(k["x"] in (1.0, -1.0) and k["differs"] and k["got"] == 1.0 for k in kinks)
    torch_hard = _builtin(record, "torch.nn.functional.hardtanh")
    assert not any(k["differs"] for r in torch_hard["runs"] for k in r["kinks"])
    celu = _builtin(record, "keras.activations.celu")
    assert any("kink x=0" in t and "is 2" in t for t in _texts(celu, "kink"))
    assert not _texts(_builtin(record, "torch.nn.functional.celu"), "kink")


def test_float32_constants_and_onnx_attributes_show_in_float64(record: dict[str, Any]) -> None:
    tfl = _builtin(record, "tf.nn.leaky_relu")
    run = next(r for r in tfl["runs"] if r["label"] == "twin")
    assert run["float64"]["value"]["differs"] and not run["float32"]["value"]["differs"]
    onnx_b = _builtin(record, "ai.onnx.LeakyRelu")
    assert onnx_b["signature"]["arguments"]["alpha"] != 0.01  # the schema stores float32
    assert next(r for r in onnx_b["runs"] if r["label"] == "twin")["float64"]["gradient"] is None


def test_keras_prelu_default_computes_relu(record: dict[str, Any]) -> None:
    b = _builtin(record, "keras.layers.PReLU")
    names = {m["spec"] for m in b["matches_under_defaults"]}
    assert {"relu", "prelu"} <= names


def test_record_is_json_with_one_record_per_builtin(record: dict[str, Any]) -> None:
    text = json.dumps(record, allow_nan=False)
    back = json.loads(text)
    calls = [b["call"] for b in back["builtins"]]
    assert len(calls) == len(set(calls))
    for b in back["builtins"]:
        assert {"framework", "call", "declared_for", "runs", "differences", "status"} <= set(b)
        for d in b["differences"]:
            assert {"spec", "run", "kind", "text"} <= set(d)
    assert set(back["meta"]["frameworks"]) >= {"torch", "tf", "keras", "onnx", "jax"}
    jax_b = [b for b in back["builtins"] if b["framework"] == "jax"]
    assert all(b["status"] == "skipped" for b in jax_b) or back["meta"]["frameworks"]["jax"]


def test_cli_writes_both_files(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import xact.parity as parity
    from xact.cli import main

    small = parity.build_record

    def only_relu(specs: Any = None, **kw: Any) -> dict[str, Any]:
        return small(["relu"], **kw)

    monkeypatch.setattr(parity, "build_record", only_relu)
    assert main(["parity", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "parity.md").read_text()
    assert "# Parity record" in md and "### relu" in md
    assert json.loads((tmp_path / "parity.json").read_text())["builtins"]
