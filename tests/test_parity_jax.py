"""The parity record measures the jax.nn built-ins, and xact port answers JAX calls.

Expected facts are read from JAX itself (its signatures, its own gradient at
the kink), never typed here.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

pytest.importorskip("mpmath")
jax = pytest.importorskip("jax")

pytestmark = pytest.mark.jax


@pytest.fixture(scope="module")
def record() -> dict[str, Any]:
    from xact.parity import build_record

    return build_record(["leaky_relu", "gelu", "gelu_tanh"], frameworks=["jax"])


def _builtin(record: dict[str, Any], call: str) -> dict[str, Any]:
    return next(b for b in record["builtins"] if b["call"] == call)


def test_jax_builtins_are_measured(record: dict[str, Any]) -> None:
    calls = {b["call"]: b for b in record["builtins"] if b["framework"] == "jax"}
    assert {"jax.nn.leaky_relu", "jax.nn.gelu"} <= set(calls)
    for b in calls.values():
        assert b["status"] == "measured", b.get("skipped")
        assert all("error" not in r.get("float64", {}) for r in b["runs"]), b["runs"]


def test_jax_leaky_relu_kink_convention_found_by_measurement(record: dict[str, Any]) -> None:
    jax_at_zero = float(jax.grad(jax.nn.leaky_relu)(0.0))
    assert jax_at_zero == 1.0  # the premise, from JAX itself: x >= 0 takes the identity branch
    b = _builtin(record, "jax.nn.leaky_relu")
    kinks = [d["text"] for d in b["differences"] if d["kind"] == "kink"]
    assert any("kink x=0 is 1" in t for t in kinks), kinks


def test_jax_gelu_default_is_the_tanh_approximation(record: dict[str, Any]) -> None:
    default = inspect.signature(jax.nn.gelu).parameters["approximate"].default
    assert default is True
    b = _builtin(record, "jax.nn.gelu")
    gelu = next(d for d in b["declared_for"] if d["spec"] == "gelu")
    assert gelu["defaults_match"] is False
    assert any(m["spec"] == "gelu_tanh" for m in b["matches_under_defaults"])
    assert any("approximate=True" in d["text"] for d in b["differences"] if d["kind"] == "defaults")


# ------------------------------------------------------------------ porting


def test_port_jax_gelu_reads_jax_default() -> None:
    from xact.port import port

    r = port("jax.nn.gelu(x)")
    approximate = inspect.signature(jax.nn.gelu).parameters["approximate"].default
    assert r.framework == "jax"
    assert r.spec == ("gelu_tanh" if approximate else "gelu")
    assert "approximate" in r.defaulted
    assert r.xact_jax.startswith(f'xact.jax.apply("{r.spec}", x)')
    assert f"xact.jax.apply(\"{r.spec}\"" in str(r)


def test_port_jax_leaky_relu_and_alias() -> None:
    from xact.port import port

    slope = inspect.signature(jax.nn.leaky_relu).parameters["negative_slope"].default
    r = port("jnn.leaky_relu(x)")
    assert (r.spec, r.params) == ("leaky_relu", {"negative_slope": slope})
    assert r.call == "jax.nn.leaky_relu"
    r2 = port("jax.nn.leaky_relu(x, negative_slope=0.2)")
    assert r2.params == {"negative_slope": 0.2}


def test_port_torch_call_lists_the_jax_builtin() -> None:
    pytest.importorskip("torch")
    from xact.port import port

    r = port("torch.nn.functional.gelu(x, approximate='tanh')")
    jax_gelu = next(e for e in r.equivalents if e.call == "jax.nn.gelu")
    assert jax_gelu.code == "jax.nn.gelu(x, approximate=True)"
    r = port("torch.nn.functional.gelu(x)")
    jax_gelu = next(e for e in r.equivalents if e.call == "jax.nn.gelu")
    assert jax_gelu.code == "jax.nn.gelu(x, approximate=False)"
    assert any("approximate=True" in w for w in jax_gelu.warnings)  # JAX's own default differs
