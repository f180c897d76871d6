"""Units of the conformance engine: rounding, ULP distance, the mpmath namespace, the CLI."""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

import xact
from xact.ops import VOCABULARY
from xact.testing._floats import FORMATS, round_to, ulp_distance
from xact.testing.tolerances import TOLERANCES


@pytest.mark.parametrize("name, dtype", [("float32", np.float32), ("float16", np.float16)])
def test_round_to_matches_the_hardware_cast(name: str, dtype: type) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(20000) * np.exp(rng.uniform(-30, 30, 20000))
    with np.errstate(over="ignore"):
        want = x.astype(dtype).astype(np.float64)
    np.testing.assert_array_equal(round_to(FORMATS[name], x), want)


def test_round_to_uses_the_low_word_to_break_ties() -> None:
    mid = 1.0 + 2.0**-24  # halfway between two float32 values
    f32 = FORMATS["float32"]
    assert round_to(f32, np.array([mid]), np.array([1e-30]))[0] == 1.0 + 2.0**-23
    assert round_to(f32, np.array([mid]), np.array([-1e-30]))[0] == 1.0
    assert round_to(f32, np.array([mid]))[0] == 1.0  # tie to even


def test_ulp_distance_rules() -> None:
    f32 = FORMATS["float32"]
    mx = float(np.finfo(np.float32).max)
    got = np.array([1.0, np.nextafter(np.float32(1), np.float32(2)), np.inf, np.nan, 0.0, mx, np.nan])
    want = np.array([1.0, 1.0, np.inf, np.nan, -0.0, np.inf, 1.0])
    np.testing.assert_array_equal(ulp_distance(f32, got, want), [0, 1, 0, 0, 0, np.inf, np.inf])
    tiny = np.array([2.0**-149]), np.array([-(2.0**-149)])
    assert ulp_distance(f32, *tiny)[0] == 2


def test_every_table_entry_has_a_reason() -> None:
    for key, tol in TOLERANCES.items():
        assert tol.reason and tol.ulps >= 1, key


def test_mpmath_namespace_covers_the_vocabulary_and_follows_ieee() -> None:
    import mpmath

    from xact.testing.oracles import MP

    assert all(hasattr(MP, n) for n in VOCABULARY)
    x = MP.asarray(np.array([-1.0, 0.0, 2.0, np.nan]))
    with mpmath.workprec(100):
        out = MP.log(x)
    assert mpmath.isnan(out[0]) and out[1] == -mpmath.inf and mpmath.isnan(out[3])
    assert list(MP.maximum(x, 0.5)[:3]) == [0.5, 0.5, 2.0]
    assert mpmath.isnan(MP.maximum(x, 0.5)[3])


def test_reference_does_not_overflow_where_the_function_is_finite() -> None:
    from xact.testing.oracles import reference

    spec = xact.get("softplus")
    ref = reference(spec, np.array([1e38, 3e38]))
    hi, _, _ = ref.lookup("value", np.array([1e38]))
    assert hi[0] == 1e38


def _write_module(tmp_path: Path, name: str, body: str) -> str:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    return name


def test_cli_module_attr_target_fails_a_planted_defect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    mod = _write_module(tmp_path, "user_acts_bad", """
        import numpy as np, xact
        bad = xact.define("t_cli_bad", fn=lambda x, xp=np: x * x,
                          grad=lambda x, xp=np: 2.002 * x, replace=True)
    """)
    from xact.testing.cli import run_check

    args = argparse.Namespace(targets=[f"{mod}:bad"], framework=None, dtype=["float32"], mode=["native"],
                              out=str(tmp_path / "out"))
    try:
        assert run_check(args) == 1
        data = json.loads((tmp_path / "out" / "report.json").read_text())
        assert not data["passed"]
        assert any(r["check"] == "derivative" and r["status"] == "fail" for r in data["results"])
        md = (tmp_path / "out" / "report.md").read_text()
        assert "## t_cli_bad" in md and "```python" in md
    finally:
        xact.unregister("t_cli_bad")


def test_cli_module_target_checks_every_spec_it_defines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write_module(tmp_path, "user_acts_ok", """
        import numpy as np, xact
        xact.define("t_cli_ok", fn=lambda x, xp=np: 3.0 * x, grad=lambda x, xp=np: xp.full_like(x, 3.0),
                    replace=True, monotonic=True)
    """)
    from xact.testing.cli import resolve_targets

    try:
        (spec,) = resolve_targets(["user_acts_ok:"])
        assert spec.name == "t_cli_ok"
        report = xact.testing.check(spec, frameworks=[], properties=False)
        assert report.passed, report.diff()
    finally:
        xact.unregister("t_cli_ok")
