"""The published definitions (xact.testing.references) as independent oracles.

Three independent checks: each published value agrees with the separate mpmath
transcription of tests/test_catalogue.py (written by another hand, without the
identities used here); each published derivative agrees with mpmath's own
numerical differentiation of the published value; and the conformance engine
fails a spec whose constant is rounded where the published one is exact, with
the defect that the spec's own oracle cannot see.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest

import xact
from xact.catalogue.parametric import d_swish_scaled, swish_scaled
from xact.testing import check, references
from xact.testing._floats import FORMATS, round_to, ulp_distance

_spec = importlib.util.spec_from_file_location("_tc", Path(__file__).with_name("test_catalogue.py"))
assert _spec is not None and _spec.loader is not None
_tc = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("_tc", _tc)
_spec.loader.exec_module(_tc)

POINTS = [-37.5, -11.25, -6.1008, -3.3, -1.48, -0.7, -1e-3, 2.5e-7, 0.3, 1.75, 4.5, 19.0]


@pytest.mark.parametrize("name", sorted(references.PUBLISHED))
def test_published_value_matches_an_independent_transcription(name: str) -> None:
    spec = xact.get(name)
    ps = dict(spec.params)
    kinks = set(spec.kinks_at(**ps))
    # (not -37.5: the literal 1 + erf(x / sqrt 2) there cancels beyond 256 bits)
    xs = np.array([x for x in POINTS[1:] if x not in kinks])
    hi, lo, ok = references.evaluate(references.PUBLISHED[name], xs, ps)
    assert ok.all()
    # that transcription types 0.044715, 1.702 and 1.7159 as doubles, which the
    # tails amplify; elsewhere the two agree to 100 bits
    rel = mpmath.mpf(10) ** -13 if name in ("gelu_tanh", "quick_gelu", "lecun_tanh") else mpmath.mpf(2) ** -100
    with mpmath.workprec(256):
        f = _tc.REFERENCE[name]
        for x, h, low in zip(xs, hi, lo):
            want = f(mpmath.mpf(x), *[mpmath.mpf(v) for v in ps.values()])
            got = mpmath.mpf(h) + mpmath.mpf(low)
            assert abs(got - want) <= rel * abs(want) + mpmath.mpf(2) ** -200, (name, x)


@pytest.mark.parametrize("name", sorted(references.PUBLISHED))
def test_published_derivative_is_the_derivative_of_the_published_value(name: str) -> None:
    spec = xact.get(name)
    ps = dict(spec.params)
    pub = references.PUBLISHED[name]
    kinks = list(spec.kinks_at(**ps))
    xs = [x for x in POINTS if all(abs(x - k) > 1e-2 for k in kinks)]
    g_hi, _, ok = references.evaluate(pub, np.array(xs), ps, "gradient")
    assert ok.all()
    with mpmath.workprec(200):
        pm = {k: mpmath.mpf(v) for k, v in ps.items()}
        for x, g in zip(xs, g_hi):
            num = mpmath.diff(lambda t: pub.value(t, **pm), mpmath.mpf(x))
            assert abs(float(num) - g) <= 1e-13 * abs(g) + 1e-300, (name, x, float(num), g)


def test_published_constants_are_the_printed_ones() -> None:
    # GELU tanh: at x = 1 the paper's formula with sqrt(2/pi) and 0.044715
    with mpmath.workprec(200):
        u = mpmath.sqrt(2 / mpmath.pi) * (1 + mpmath.mpf("0.044715"))
        want = float((1 + mpmath.tanh(u)) / 2)
    hi, _, _ = references.evaluate(references.PUBLISHED["gelu_tanh"], np.array([1.0]), {})
    assert hi[0] == want
    # SELU: lambda * alpha for x -> -inf, to 32 digits (Klambauer et al. 2017)
    hi, _, _ = references.evaluate(references.PUBLISHED["selu"], np.array([-800.0]), {})
    assert hi[0] == pytest.approx(-1.0507009873554804934193349852946 * 1.6732632423543772848170429916717, rel=1e-15)


def test_the_fixed_specs_are_within_tolerance_of_the_published_definition() -> None:
    # the defects the spec's own oracle could not see (rounded constants amplified in a tail)
    from xact.ops.numpy import namespace

    f64 = FORMATS["float64"]
    cases = [("gelu", {}, np.linspace(-30, -3.24, 200)),
             ("gelu_tanh", {}, np.linspace(-20.8, -5.9, 200)),
             ("quick_gelu", {}, np.linspace(-400, -5, 200)),
             ("softplus_beta", {"beta": 3.0, "threshold": 0.2}, np.linspace(-200, -1.48, 200))]
    for name, ps, xs in cases:
        spec = xact.get(name)
        full = {**spec.params, **ps}
        got = np.asarray(spec.fn(xs, **full, xp=namespace(np.float64)))
        hi, lo, _ = references.evaluate(references.PUBLISHED[name], xs, full)
        d = ulp_distance(f64, got, round_to(f64, hi, lo))
        assert d.max() <= 4, (name, float(d.max()), float(xs[int(np.argmax(d))]))


def test_celu_gradient_with_alpha_not_a_power_of_two() -> None:
    from xact.ops.numpy import namespace

    for dtype, alpha in (("float64", 3.0), ("float32", 0.3), ("float64", 0.3)):
        fmt = FORMATS[dtype]
        xs = round_to(fmt, np.linspace(-25.0, -2.0, 300))
        dx, _ = xact.get("celu").grad(xs.astype(dtype), alpha=alpha, xp=namespace(np.dtype(dtype)))
        hi, lo, _ = references.evaluate(references.PUBLISHED["celu"], xs, {"alpha": alpha}, "gradient")
        d = ulp_distance(fmt, np.asarray(dx, dtype=np.float64), round_to(fmt, hi, lo))
        assert d.max() <= 4, (dtype, alpha, float(d.max()))


# ------------------------------------------------------------------ the engine's "published" check


def _rounded_quick_gelu(x, xp=np):
    return swish_scaled(x, 1.7, xp)  # 1.7, not the published 1.702; careful otherwise


def _d_rounded_quick_gelu(x, xp=np):
    return d_swish_scaled(x, 1.7, xp)[0]


@pytest.fixture
def planted(monkeypatch: pytest.MonkeyPatch):
    name = "t_planted_quick_gelu"
    monkeypatch.setitem(references.PUBLISHED, name, references.PUBLISHED["quick_gelu"])
    spec = xact.define(name, fn=_rounded_quick_gelu, grad=_d_rounded_quick_gelu, family="smooth", replace=True)
    yield spec
    xact.unregister(name)


def test_a_constant_off_the_published_one_fails_only_the_published_check(planted) -> None:
    pytest.importorskip("torch")
    report = check(planted, frameworks=["torch"], dtypes=["float64"], modes=["numpy"], properties=False)
    own = [r for r in report.results if r.check == "accuracy"]
    assert own and all(r.status == "pass" for r in own)  # its own oracle: consistent
    bad = [r for r in report.failures if r.check == "published"]
    assert {r.quantity for r in bad} == {"value", "gradient"}
    assert all("published" in r.reference for r in bad)
    assert math.isfinite(bad[0].worst_x)


def test_user_specs_are_not_held_to_a_catalogue_name() -> None:
    pytest.importorskip("torch")
    spec = xact.define("gelu_user_t", fn=_rounded_quick_gelu, grad=_d_rounded_quick_gelu, replace=True)
    try:
        report = check(spec, frameworks=["torch"], dtypes=["float64"], modes=["numpy"], properties=False)
    finally:
        xact.unregister("gelu_user_t")
    assert not [r for r in report.results if r.check == "published"]


# ------------------------------------------------------------------ domain


def _exp_fn(x, xp=np):
    return xp.exp(x)


def _bad_far_grad(x, xp=np):
    return xp.where(x > 50.0, 2.0 * xp.exp(x), xp.exp(x))  # wrong only beyond 50


def test_domain_turns_failures_outside_it_into_notes() -> None:
    spec = xact.define("t_dom_exp", fn=_exp_fn, grad=_bad_far_grad, replace=True)
    try:
        whole = check(spec, frameworks=[], properties=False)
        inside = check(spec, frameworks=[], properties=False, domain=(-40.0, 40.0))
        declared = xact.define("t_dom_exp", fn=_exp_fn, grad=_bad_far_grad, replace=True, domain=(-40.0, 40.0))
        by_spec = check(declared, frameworks=[], properties=False)
    finally:
        xact.unregister("t_dom_exp")
    assert [r.check for r in whole.failures] == ["derivative"]
    assert whole.failures[0].worst_x > 50
    for rep in (inside, by_spec):
        assert rep.passed, rep.diff()
        notes = rep.notes["t_dom_exp"]
        assert any("outside the domain" in n and "not a failure" in n for n in notes), notes


def test_domain_is_validated() -> None:
    with pytest.raises(xact.SpecError):
        xact.define("t_dom_bad", fn=_exp_fn, grad=_exp_fn, domain=(3.0, 1.0), replace=True)
    with pytest.raises(ValueError):
        check("relu", frameworks=[], properties=False, domain=(1.0, 1.0))


def test_cli_range(tmp_path) -> None:
    import subprocess

    mod = tmp_path / "t_dom_mod.py"
    mod.write_text(
        "import numpy as np, xact\n"
        "def f(x, xp=np):\n    return xp.exp(x)\n"
        "def g(x, xp=np):\n    return xp.where(x > 50.0, 2.0 * xp.exp(x), xp.exp(x))\n"
        "spec = xact.define('t_dom_cli', fn=f, grad=g)\n")
    base = [sys.executable, "-m", "xact", "check", "t_dom_mod:spec", "--framework", "torch", "--dtype", "float64",
            "--mode", "numpy"]
    env = {**__import__("os").environ, "PYTHONPATH": f"{tmp_path}:{Path(__file__).resolve().parent.parent}",
           "XACT_SEARCH_SECONDS": "0"}
    pytest.importorskip("torch")
    bad = subprocess.run(base, capture_output=True, text=True, cwd=tmp_path, env=env)
    good = subprocess.run([*base, "--range", "-40", "40"], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "declared derivative wrong" in bad.stdout
    assert good.returncode == 0, good.stdout + good.stderr
    assert "outside the domain" in good.stdout


# ------------------------------------------------------------------ help() in each framework


def test_help_shows_parameters_and_a_runnable_framework_example() -> None:
    import inspect
    import textwrap

    torch = pytest.importorskip("torch")
    import xact.torch as xt

    sig = inspect.signature(xt.softplus_beta)
    assert list(sig.parameters) == ["x", "mode", "beta", "threshold"]
    assert sig.parameters["beta"].default == 1.0
    doc = xt.softplus_beta.__doc__
    assert "Example (xact.torch):" in doc and "xact.torch.softplus_beta(x, beta=1.0, threshold=20.0)" in doc
    code = textwrap.dedent(doc.split("Example (xact.torch):", 1)[1])
    scope: dict = {}
    exec(code, scope)  # the example runs as written
    x = scope["x"]
    want = torch.sigmoid(x.detach())  # d/dx softplus = sigmoid (torch's own)
    assert torch.allclose(x.grad, want, rtol=1e-5)
    assert "mode" in inspect.signature(xt.gelu).parameters


# ------------------------------------------------------------------ parity and port


def test_parity_findings_lead_with_the_difference_and_are_classified() -> None:
    from xact.parity import record as rec

    m = {d: {"value": {"differs": True, "max_ulp": 8.7e8, "max_rel": 1.4e-7, "worst_x": -90.5,
                       "got": 0.0, "want": -2.1e-38}} for d in ("float32", "float64")}
    (text,) = [t for t in rec._ulp_parts(m, "value")][:1]
    assert text.startswith("largest difference 1.4e-07 of max(|spec|, 1) in float32")
    assert text.index("largest difference") < text.index("ULP")
    full = f"`torch.nn.functional.silu(x)`: values up to {text} from silu"
    assert rec._cause("value", full) == "tail underflow"
    m["float32"]["value"].update(got=0.5, want=0.25)
    assert rec._cause("value", rec._ulp_parts(m, "value")[0]) == "formula differs"
    assert rec._cause("kink", "x") == "kink convention"
    assert rec._cause("nonfinite", "x") == "NaN/inf handling"
    assert rec._cause("defaults", "x") == "defaults differ"


def test_port_reads_a_parity_record_from_any_path(tmp_path) -> None:
    import json

    from xact.port import PortError, port

    with pytest.raises(PortError, match="no parity record"):
        port("torch.nn.ReLU()", parity=tmp_path / "missing.json")
    plain = port("torch.nn.ReLU()", parity=None)
    path = tmp_path / "elsewhere" / "p.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"builtins": [{"call": plain.call, "differences": [
        {"spec": plain.spec, "run": "twin", "kind": "kink", "cause": "kink convention",
         "text": "gradient at 0 is 1, the spec says 0"}]}]}))
    got = port("torch.nn.ReLU()", parity=path)
    assert "[kink convention] gradient at 0 is 1, the spec says 0" in got.notes


def test_xact_list_columns_line_up() -> None:
    import subprocess

    out = subprocess.run([sys.executable, "-m", "xact", "list"], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout.splitlines()
    header = out[0]
    col = header.index("modes")
    rows = [ln for ln in out[1:] if ln and not ln.startswith(" ") and "activations;" not in ln]
    assert len(rows) >= 60
    assert all(ln[col:].startswith(("native+numpy", "numpy")) for ln in rows), [ln for ln in rows
                                                                                if not ln[col:].startswith("n")][:3]


def test_the_typed_stub_of_catalogue_names_is_current() -> None:
    from xact import _stubgen

    assert _stubgen.STUB.read_text() == _stubgen.render(), "run python -m xact._stubgen"
    text = _stubgen.STUB.read_text()
    assert 'def softplus_beta(x: Any, /, *, mode: str = "auto", beta: Any = 1.0, threshold: Any = 20.0)' in text
    assert "def swish(" in text  # aliases complete too


# ------------------------------------------------------------------ readable reports


def _fake_report():
    from xact.testing.engine import CheckResult, Report

    rep = Report(meta={"dtypes": ["float32", "float64"], "frameworks": ["torch", "tf"], "modes": ["native", "numpy"]})
    for k in range(26):  # the formula overflows at huge |x| in every framework alike
        for fwk in ("torch", "tf"):
            rep.results.append(CheckResult(
                "t_user_act", "accuracy", fwk, "numpy" if k % 2 else "native", "float64", "value", False,
                n=900, n_failed=3, max_ulp=3.120994541767753728e18, max_abs=math.inf,
                worst_x=-1.234567890123456789e300 * (k + 1), got=-math.inf, want=-1.0e300,
                failed_lo=-1e308, failed_hi=-1e300, worst_abs=math.inf, message="value overflows"))
    rep.results.append(CheckResult(
        "t_user_act", "derivative", "spec", "-", "mpmath", "gradient", False, n=800, n_failed=40,
        max_ulp=2.0e12, worst_x=0.3333333333333333, got=1.0, want=0.5, failed_lo=0.1, failed_hi=2.5,
        worst_abs=0.5, worst_rel=1.0, message="declared gradient disagrees with numerical differentiation"))
    rep.results.append(CheckResult(
        "t_user_act", "accuracy", "torch", "native", "float32", "gradient", True, n=900,
        max_ulp=2.0, worst_x=0.1, worst_abs=1e-8, worst_rel=1e-7))
    return rep


def test_console_summary_first_grouped_by_cause_fits_100_columns() -> None:
    import io

    from xact.testing.report import print_summary

    buf = io.StringIO()
    print_summary(_fake_report(), file=buf)
    out = buf.getvalue().splitlines()
    assert max(len(ln) for ln in out) <= 100, max(out, key=len)
    text = "\n".join(out)
    assert text.index("t_user_act") < text.index("--")  # the summary table comes first
    # the real defect (a wrong derivative) leads, before the 52 overflow failures
    assert text.index("declared derivative wrong") < text.index("overflows or cancels")
    assert "more of this cause" in text
    assert "3120994541767753728" not in text and "1.2345678901234568e+300" not in text


def test_markdown_is_short_per_activation_and_uses_short_numbers() -> None:
    from xact.testing.report import write_markdown

    md = write_markdown(_fake_report())
    section = md.split("## t_user_act", 1)[1].splitlines()
    assert len(section) < 60
    assert section.index(next(ln for ln in section if "declared derivative wrong" in ln)) < section.index(
        next(ln for ln in section if "overflows or cancels" in ln))
    assert "3120994541767753728" not in md and "1.2345678901234568e+300" not in md
    assert ">1e6 ULP" in md  # no 3e18 ULP figures; abs/rel alongside
