"""xact.gain / xact.diagnose against independent references.

The references are mpmath quadratures of the published formulas (written
here, not taken from the specs), closed forms of the mean-field theory
(Poole et al. 2016, Schoenholz et al. 2017) and published constants.
"""

from __future__ import annotations

import math
import subprocess
import sys

import mpmath as mp
import numpy as np
import pytest

import xact
from xact.errors import DiagnosisError

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _gauss(f, breaks=(), dps=30):
    """E[f(z)], z ~ N(0, 1), by mpmath tanh-sinh quadrature split at ``breaks``."""
    with mp.workdps(dps):
        pts = [-mp.inf, *[mp.mpf(b) for b in sorted(breaks)], mp.inf]
        dens = lambda z: mp.exp(-z * z / 2) / mp.sqrt(2 * mp.pi)  # noqa: E731
        return mp.quad(lambda z: f(z) * dens(z), pts)


def _gain_ref(phi, breaks=()):
    return float(1 / mp.sqrt(_gauss(lambda z: phi(z) ** 2, breaks)))


# Published definitions, in mpmath.
PUBLISHED = {
    "tanh": (lambda x: mp.tanh(x), ()),
    "gelu": (lambda x: x / 2 * (1 + mp.erf(x / mp.sqrt(2))), ()),
    "silu": (lambda x: x / (1 + mp.exp(-x)), ()),
    "softplus": (lambda x: mp.log(1 + mp.exp(x)), ()),
    "elu": (lambda x: x if x > 0 else mp.expm1(x), (0.0,)),
    "selu": (lambda x: SELU_SCALE * (x if x > 0 else SELU_ALPHA * mp.expm1(x)), (0.0,)),
    "sigmoid": (lambda x: 1 / (1 + mp.exp(-x)), ()),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_gain_matches_mpmath_of_published_formula(name):
    phi, breaks = PUBLISHED[name]
    assert xact.gain(name) == pytest.approx(_gain_ref(phi, breaks), rel=1e-9)


def test_relu_gain_is_sqrt2():
    assert xact.gain("relu") == pytest.approx(math.sqrt(2.0), rel=1e-13)


@pytest.mark.parametrize("a", [0.01, 0.2, 0.5])
def test_leaky_relu_gain(a):
    assert xact.gain("leaky_relu", negative_slope=a) == pytest.approx(math.sqrt(2 / (1 + a * a)), rel=1e-12)


def test_selu_gain_is_one():
    # SELU's constants make E[selu(z)^2] = 1 (Klambauer et al. 2017), to their rounding.
    assert xact.gain("selu") == pytest.approx(1.0, abs=1e-3)


@pytest.fixture
def user_specs():
    """Specs that are not in the catalogue: one smooth, one with kinks."""

    def wobble(x, xp=np):
        return x + 0.5 * xp.sin(3.0 * x)

    def d_wobble(x, xp=np):
        return 1.0 + 1.5 * xp.cos(3.0 * x)

    def bent(x, xp=np):
        return xp.where(x > 0.5, 2.0 * x - 0.5, xp.where(x > -1.0, x, 0.25 * x - 0.75))

    def d_bent(x, xp=np):
        return xp.where(x > 0.5, 2.0, xp.where(x > -1.0, 1.0, 0.25))

    specs = [
        xact.define("wobble_sig_user", fn=wobble, grad=d_wobble, replace=True),
        xact.define("bent_sig_user", fn=bent, grad=d_bent, kinks={0.5: 1.0, -1.0: 0.25}, replace=True),
    ]
    yield specs
    for s in specs:
        xact.unregister(s.name)


def test_gain_of_user_specs(user_specs):
    wobble = lambda x: x + mp.mpf(1) / 2 * mp.sin(3 * x)  # noqa: E731
    bent = lambda x: 2 * x - mp.mpf(1) / 2 if x > 0.5 else (x if x > -1 else x / 4 - mp.mpf(3) / 4)  # noqa: E731
    assert xact.gain("wobble_sig_user") == pytest.approx(_gain_ref(wobble), rel=1e-9)
    assert xact.gain("bent_sig_user") == pytest.approx(_gain_ref(bent, (-1.0, 0.5)), rel=1e-9)


def test_gain_of_user_kinked_spec_without_declared_kinks():
    # The kink is not declared: adaptive bisection still reaches 1e-9.
    spec = xact.define("undeclared_kink_user", fn=lambda x, xp=np: xp.abs(x - 0.3),
                       grad=lambda x, xp=np: xp.sign(x - 0.3), replace=True)
    try:
        ref = _gain_ref(lambda x: abs(x - mp.mpf("0.3")), (0.3,))
        assert xact.gain(spec) == pytest.approx(ref, rel=1e-9)
    finally:
        xact.unregister(spec.name)


# ----------------------------------------------------------------- mean field


def test_relu_fixed_point_and_chi1_closed_form():
    # relu: q' = sigma_w^2 q / 2 + sigma_b^2, so q* = sigma_b^2 / (1 - sigma_w^2/2), slope = chi1 = sigma_w^2/2.
    sw, sb = 1.2, 0.5
    d = xact.diagnose("relu", sigma_w=sw, sigma_b=sb)
    assert d.fixed_point == pytest.approx(sb**2 / (1 - sw**2 / 2), rel=1e-9)
    assert d.slope == pytest.approx(sw**2 / 2, rel=1e-9)
    assert d.chi1 == pytest.approx(sw**2 / 2, rel=1e-9)
    assert d.stable
    assert d.depth_scale.e_fold == pytest.approx(-1 / math.log(sw**2 / 2), rel=1e-9)


def test_relu_critical_sigma_w_is_sqrt2():
    d = xact.diagnose("relu")
    assert d.critical_sigma_w == pytest.approx(math.sqrt(2), rel=1e-9)
    assert d.chi1 == pytest.approx(1.0, rel=1e-12)
    assert d.stable and d.fate == "neutral"


def test_tanh_critical_sigma_w_at_zero_bias_is_one():
    # Poole et al. (2016): with sigma_b = 0, tanh is ordered for sigma_w < 1, chaotic above.
    assert xact.diagnose("tanh", sigma_w=0.8).critical_sigma_w == pytest.approx(1.0, rel=1e-6)


def test_tanh_fixed_point_slope_and_chi1_against_mpmath():
    sw, sb = 1.5, 0.3
    with mp.workdps(25):
        V = lambda q: sw**2 * _gauss(lambda z: mp.tanh(mp.sqrt(q) * z) ** 2, dps=25) + sb**2  # noqa: E731
        q_star = mp.findroot(lambda q: V(q) - q, 0.5)
        h = mp.mpf("1e-6")
        slope = (V(q_star + h) - V(q_star - h)) / (2 * h)  # central difference, error ~h^2
        chi1 = sw**2 * _gauss(lambda z: mp.sech(mp.sqrt(q_star) * z) ** 4, dps=25)
    d = xact.diagnose("tanh", sigma_w=sw, sigma_b=sb)
    assert d.fixed_point == pytest.approx(float(q_star), rel=1e-9)
    assert d.slope == pytest.approx(float(slope), rel=1e-7)
    assert d.chi1 == pytest.approx(float(chi1), rel=1e-9)
    assert d.stable


def test_square_is_unstable_for_every_sigma_w():
    # x^2: q' = 3 sigma_w^2 q^2, whose fixed point 1/(3 sigma_w^2) has slope 2 for every sigma_w.
    for sw in (None, 0.3, 1.0, 3.0):
        d = xact.diagnose("square", sigma_w=sw)
        assert not d.stable
        assert d.no_stable_init
        assert d.slope == pytest.approx(2.0, rel=1e-9)
        sw_ = d.gain if sw is None else sw
        assert d.fixed_point == pytest.approx(1 / (3 * sw_**2), rel=1e-9)
    text = str(xact.diagnose("square"))
    assert "No initialisation gives a stable variance" in text
    assert "normalisation" in text.lower() and "clip gradients" in text and "bounded variant" in text
    assert len(text.splitlines()) < 40


@pytest.mark.parametrize("name", ["silu", "gelu"])
def test_silu_gelu_fixed_point_repels_and_summary_says_how_deep(name):
    d = xact.diagnose(name)
    assert d.fixed_point == pytest.approx(1.0, rel=1e-9)  # the gain puts q* at 1
    assert not d.stable and d.slope > 1
    assert 5 < d.depth_scale.drift_10x < 200
    text = str(d)
    assert f"after about {d.depth_scale.drift_10x} layers" in text
    assert "residual" in text and "Normalisation" in text


@pytest.mark.parametrize("name", ["tanh", "elu", "selu", "sigmoid"])
def test_saturating_or_self_normalising_specs_are_stable(name):
    d = xact.diagnose(name)
    assert d.stable and abs(d.slope) < 1 and d.depth_scale.drift_10x is None


def test_spiky_jumps_at_half_integers():
    d = xact.diagnose("spiky")
    xs = [x for x, _ in d.discontinuities]
    assert xs == pytest.approx([k + 0.5 for k in range(-10, 10)], abs=1e-12)
    assert all(size == pytest.approx(-0.5, abs=1e-9) for _, size in d.discontinuities)
    assert "jumps" in str(d)


def test_continuous_specs_have_no_jumps_and_kinks_are_not_jumps():
    for name in ("relu", "hard_tanh", "gelu", "softsign"):
        assert xact.diagnose(name).discontinuities == ()


def test_thresholded_relu_jump_found():
    (x, size), = xact.diagnose("thresholded_relu").discontinuities
    assert x == pytest.approx(1.0, abs=1e-12) and size == pytest.approx(1.0, abs=1e-9)


def test_shape_facts():
    relu, tanh, htanh = (xact.diagnose(n) for n in ("relu", "tanh", "hard_tanh"))
    assert relu.dead_fraction == pytest.approx(0.5, abs=1e-12)
    assert htanh.dead_fraction == pytest.approx(math.erfc(1 / math.sqrt(2)), rel=1e-9)
    assert tanh.dead_fraction == 0.0
    assert (tanh.lipschitz, tuple(tanh.bounded)) == (pytest.approx(1.0), (True, True))
    assert tuple(relu.bounded) == (False, True)
    assert math.isinf(xact.diagnose("square").lipschitz)


def test_nan_spec_raises_diagnosis_error():
    with pytest.warns(xact.XactWarning):
        spec = xact.define("sqrt_sig_user", fn=lambda x, xp=np: xp.sqrt(x),
                           grad=lambda x, xp=np: 0.5 / xp.sqrt(x), replace=True)
    try:
        with pytest.raises(DiagnosisError, match="NaN at x"):
            xact.gain(spec)
    finally:
        xact.unregister(spec.name)


def test_diagnosis_is_frozen():
    d = xact.diagnose("relu")
    with pytest.raises(AttributeError):
        d.gain = 1.0


def test_import_xact_stays_fast_and_framework_free():
    code = (
        "import time, sys; t = time.perf_counter(); import xact; dt = time.perf_counter() - t; "
        "assert 'xact.signal' not in sys.modules; xact.gain('relu'); "
        "bad = {'torch', 'tensorflow', 'keras', 'jax', 'matplotlib', 'scipy'} & set(sys.modules); "
        "print(dt, sorted(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    dt, bad = out.split(" ", 1)
    assert bad.strip() == "[]"
    assert float(dt) < 1.0


def test_cli_diagnose_prints_summary(capsys):
    from xact.cli import main

    assert main(["diagnose", "square"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("square: UNSTABLE") and "No initialisation gives a stable variance" in out


def test_cli_diagnose_user_spec_and_plots(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    mod = tmp_path / "my_acts_sig.py"
    mod.write_text(
        "import numpy as np, xact\n"
        "spec = xact.define('cli_sig_user', fn=lambda x, xp=np: xp.where(x > 0, x, 0.1 * x),\n"
        "                   grad=lambda x, xp=np: xp.where(x > 0, 1.0, 0.1), kinks={0.0: 0.1}, replace=True)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr("xact.signal.plots.DEPTH", 8)  # the plot's simulation, kept short here
    from xact.cli import main

    try:
        assert main(["diagnose", "my_acts_sig:spec", "--sigma-w", "1.3", "--out", str(tmp_path / "o")]) == 0
    finally:
        xact.unregister("cli_sig_user")
    out = capsys.readouterr().out
    assert "cli_sig_user" in out and "sigma_w = 1.3" in out
    for name in ("phi", "variance_map", "chi1", "depth"):
        png = tmp_path / "o" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_heavy_tail_gives_diagnosis_error_not_a_wrong_number():
    # E[exp(z^2/4)^2] = E[exp(z^2/2)] diverges: the integrand is flat, a cut line would give ~31.
    spec = xact.define("heavy_sig_user", fn=lambda x, xp=np: xp.exp(0.25 * x * x),
                       grad=lambda x, xp=np: 0.5 * x * xp.exp(0.25 * x * x), replace=True)
    try:
        with pytest.raises(DiagnosisError, match="infinite"):
            xact.gain(spec)
    finally:
        xact.unregister(spec.name)


def test_undeclared_jump_is_found_and_split():
    spec = xact.define("jump_sig_user", fn=lambda x, xp=np: xp.where(x > 0.7, x + 0.3, x),
                       grad=lambda x, xp=np: xp.ones_like(x), replace=True)
    try:
        d = xact.diagnose(spec)
        (x, size), = d.discontinuities
        assert x == pytest.approx(0.7, abs=1e-12) and size == pytest.approx(0.3, abs=1e-9)
        ref = _gain_ref(lambda v: v + mp.mpf("0.3") if v > mp.mpf("0.7") else v, (0.7,))
        assert d.gain == pytest.approx(ref, rel=1e-9)
    finally:
        xact.unregister(spec.name)


def test_cli_diagnose_errors_exit_2(capsys):
    from xact.cli import main

    assert main(["diagnose", "no_such_activation"]) == 2
    assert main(["diagnose", "leaky_relu", "--param", "negative_slope"]) == 2
    err = capsys.readouterr().err
    assert "no activation named 'no_such_activation'" in err and "NAME=NUMBER" in err
    assert main(["diagnose", "leaky_relu", "--param", "negative_slope=0.2"]) == 0
    assert "leaky_relu(negative_slope=0.2)" in capsys.readouterr().out
