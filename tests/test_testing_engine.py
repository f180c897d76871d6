"""The conformance engine catches planted defects, names them, and passes correct specs.

Each test narrows the run (one framework, one or two dtypes, no Hypothesis
properties unless they are the point) so it takes a second or two.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import numpy as np
import pytest

import xact
from xact.testing import check
from xact.testing.engine import Report

FRAMEWORKS = [
    pytest.param(f, id=f, marks=pytest.mark.skipif(
        importlib.util.find_spec(mod) is None, reason=f"{mod} not installed"))
    for f, mod in (("torch", "torch"), ("tf", "tensorflow"), ("jax", "jax"))
]


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def define() -> Iterator[object]:
    """xact.define for the test, unregistering what it defined afterwards."""
    made: list[str] = []

    def _define(name: str, **kw: object) -> xact.Spec:
        spec = xact.define(name, replace=True, **kw)  # type: ignore[arg-type]
        made.append(name)
        return spec

    yield _define
    for n in made:
        xact.unregister(n)


def _sq(x, xp=np):
    return x * x


def _failed(report: Report, check_kind: str, quantity: str | None = None) -> list:
    return [r for r in report.failures
            if r.check == check_kind and (quantity is None or r.quantity == quantity)]


# ------------------------------------------------------------------ planted defects


def test_derivative_wrong_on_part_of_range_fails_and_says_where(define) -> None:
    spec = define("t_sq_part", fn=_sq, grad=lambda x, xp=np: xp.where(x > 3.0, 2.0 * x + 0.5, 2.0 * x))
    report = check(spec, frameworks=[], properties=False)
    (bad,) = _failed(report, "derivative", "gradient")
    assert "disagrees with numerical differentiation" in bad.message
    assert bad.worst_x > 3.0
    assert "x in [3" in bad.message  # the failing range starts at the defect
    assert "xnp.grad('t_sq_part'" in bad.repro
    assert not report.passed


def test_derivative_off_by_small_factor_fails_with_the_ratio(define) -> None:
    spec = define("t_sq_factor", fn=_sq, grad=lambda x, xp=np: 1.001 * (2.0 * x))
    report = check(spec, frameworks=[], properties=False)
    (bad,) = _failed(report, "derivative", "gradient")
    assert "ratio 1.001" in bad.message
    assert bad.got == pytest.approx(1.001 * bad.want, rel=1e-9)


def test_wrong_kink_convention_fails_on_the_spec(define) -> None:
    # relu whose grad takes 1 at 0 while kinks states 0
    spec = define("t_relu_conv", fn=lambda x, xp=np: xp.maximum(x, 0.0),
                  grad=lambda x, xp=np: xp.where(x >= 0, 1.0, 0.0), kinks={0.0: 0.0})
    report = check(spec, frameworks=[], properties=False)
    (bad,) = _failed(report, "kink")
    assert "convention at kink x=0.0" in bad.message
    assert (bad.got, bad.want) == (1.0, 0.0)
    assert not _failed(report, "derivative")  # 1 is the right derivative: not a wrong grad


def test_wrong_kink_convention_fails_in_each_framework(define, framework: str) -> None:
    spec = define("t_relu_conv_fw", fn=lambda x, xp=np: xp.maximum(x, 0.0),
                  grad=lambda x, xp=np: xp.where(x >= 0, 1.0, 0.0), kinks={0.0: 0.0})
    report = check(spec, frameworks=[framework], dtypes=["float32"], modes=["native"], properties=False)
    fw_kink = [r for r in _failed(report, "kink") if r.framework == framework]
    assert fw_kink and f"{framework} gives 1.0, the spec states 0.0" in fw_kink[0].message


def test_forward_overflow_in_float32_fails_naming_overflow(define, framework: str) -> None:
    spec = define(
        "t_softplus_naive",
        fn=lambda x, xp=np: xp.log(1.0 + xp.exp(x)),
        grad=lambda x, xp=np: 1.0 / (1.0 + xp.exp(-x)),
    )
    report = check(spec, frameworks=[framework], dtypes=["float32"], modes=["native"], properties=False)
    bad = [r for r in _failed(report, "accuracy", "value") if r.dtype == "float32"]
    assert bad, report.diff()
    assert "overflows to inf where the reference is finite" in bad[0].message
    assert bad[0].worst_x > 88.0  # exp(x) overflows float32 beyond ~88.7
    assert any(f"{m}.apply" in bad[0].repro for m in ("xt", "xtf", "xj"))
    assert not _failed(report, "derivative")  # the formulas are right; only float32 breaks


def test_nan_not_propagated_fails_the_property(define, framework: str) -> None:
    spec = define("t_relu_where", fn=lambda x, xp=np: xp.where(x > 0, x, 0.0),
                  grad=lambda x, xp=np: xp.where(x > 0, 1.0, 0.0), kinks={0.0: 0.0})
    report = check(spec, frameworks=[framework], dtypes=["float32"], modes=["native"])
    (bad,) = _failed(report, "property:nan")
    assert "NaN must propagate" in bad.message


def test_numpy_only_spec_uses_float64_fallback_and_still_catches_a_wrong_grad(define) -> None:
    spec = define("t_sq_np", fn=np.vectorize(lambda v: v * v), grad=np.vectorize(lambda v: 2.01 * v))
    report = check(spec, frameworks=[], properties=False)
    (bad,) = _failed(report, "derivative", "gradient")
    assert bad.dtype == "float64" and bad.reference == "float64"
    assert any("NumPy float64" in n for n in report.notes["t_sq_np"])


def test_wrong_parameter_partial_fails(define) -> None:
    def fn(x, beta=1.0, xp=np):
        return beta * x

    def grad(x, beta=1.0, xp=np):
        return beta + 0.0 * x, 1.001 * x

    spec = define("t_scale", fn=fn, grad=grad, params={"beta": 1.5})
    report = check(spec, frameworks=[], properties=False)
    assert [r.quantity for r in _failed(report, "derivative")] == ["param_gradient:beta"]


# ------------------------------------------------------------------ correct specs pass


@pytest.mark.parametrize("name", ["relu", "sigmoid", "elu"])
def test_catalogue_specs_pass(name: str, framework: str) -> None:
    report = check(name, frameworks=[framework], dtypes=["float32", "bfloat16"], modes=["native"])
    real = [r for r in report.failures if r.check != "subnormal"]
    assert not real, report.diff()


def test_correct_user_spec_passes_everywhere_it_can(define) -> None:
    spec = define("t_sq_ok", fn=_sq, grad=lambda x, xp=np: 2.0 * x, monotonic=False)
    report = check(spec, dtypes=["float32", "float64"], properties=True)
    assert report.passed, report.diff()
    kinds = {r.check for r in report.results}
    assert {"derivative", "accuracy", "special"} <= kinds


def test_assert_conforms_raises_with_readable_diff(define) -> None:
    define("t_sq_bad", fn=_sq, grad=lambda x, xp=np: 1.001 * (2.0 * x))
    with pytest.raises(xact.ConformanceError) as info:
        xact.testing.assert_conforms("t_sq_bad", frameworks=[], properties=False)
    text = str(info.value)
    assert "t_sq_bad derivative" in text and "worst at x =" in text and "reproduce:" in text


def test_missing_framework_is_a_note_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    from xact.testing import frameworks as fw

    monkeypatch.setattr(fw, "available", lambda f: f"{f} is not installed")
    report = check("relu", dtypes=["float32"], properties=False)
    assert any("skipped" in n for n in report.notes["*"])
    assert all(r.framework == "spec" for r in report.results)


def test_import_is_cheap() -> None:
    code = ("import sys, xact, xact.testing; xact.testing.__doc__; "
            "assert 'torch' not in sys.modules and 'tensorflow' not in sys.modules; "
            "assert 'mpmath' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


_SPLIT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import xact
    from xact.testing import check
    assert not any(m in sys.modules for m in ("torch", "tensorflow", "jax"))

    def bent(x, xp=np):  # a user spec: the forked workers see the parent's registry
        return xp.where(x > 0, x, 0.25 * x)

    def d_bent(x, xp=np):
        return xp.where(x > 0, 1.0, 0.25)

    xact.define("split_bent", fn=bent, grad=d_bent, kinks={0.0: 0.25})
    fw = [sys.argv[1]] if sys.argv[1] != "none" else []
    jobs = int(sys.argv[2])
    cache = {}
    report = check(["relu", "softsign", "split_bent", "elu", "tanh"], frameworks=fw, dtypes=["float32"],
                   properties=False, search=0, jobs=jobs, oracle_cache=cache)
    rows = [[r.name, r.check, r.framework, r.mode, r.dtype, r.quantity, r.status, r.max_ulp]
            for r in report.results]
    assert len(cache) == 5, len(cache)  # the workers' oracle jobs came back to this process
    from xact.testing import oracles

    def recomputed(*a, **k):
        raise AssertionError("the oracle ran again")

    oracles.reference = recomputed  # forked workers inherit it
    again = check(["relu", "softsign", "split_bent", "elu", "tanh"], frameworks=fw, dtypes=["float32"],
                  properties=False, search=0, jobs=jobs, oracle_cache=cache)
    assert [[r.name, r.check, r.framework, r.mode, r.dtype, r.quantity, r.status, r.max_ulp]
            for r in again.results] == rows
    print(json.dumps({"rows": rows, "notes": report.notes, "processes": report.meta.get("processes", 1),
                      "specs": report.meta["specs"]}))
""")


def test_check_split_across_processes_equals_one_process():
    """jobs=2 with no framework imported forks two workers; the merged report is the one-process one."""
    import json

    installed = [f for f, mod in (("jax", "jax"), ("torch", "torch"), ("tf", "tensorflow"))
                 if importlib.util.find_spec(mod) is not None]
    framework = installed[0] if installed else "none"
    outs = {}
    for jobs in (1, 2):
        out = subprocess.run([sys.executable, "-c", _SPLIT, framework, str(jobs)], capture_output=True,
                             text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
        outs[jobs] = json.loads(out.stdout.strip().splitlines()[-1])
    assert outs[2]["processes"] == 2 and outs[1]["processes"] == 1
    assert outs[2]["specs"] == outs[1]["specs"] == ["relu", "softsign", "split_bent", "elu", "tanh"]
    assert [r[0] for r in outs[2]["rows"]] == [r[0] for r in outs[1]["rows"]]  # catalogue order kept
    assert outs[2]["rows"] == outs[1]["rows"]
    assert outs[2]["notes"] == outs[1]["notes"]
    assert any(r[0] == "split_bent" for r in outs[2]["rows"])


_PLOTS = textwrap.dedent("""
    import sys
    from pathlib import Path
    from xact.testing import check
    from xact.testing import report as rp
    names = ["relu", "softsign", "elu", "tanh", "silu", "sigmoid", "softplus", "mish", "celu"]
    rep = check(names, frameworks=[], dtypes=["float32"], properties=False, search=0, plots=True, jobs=1)
    out = Path(sys.argv[1])
    assert rp._can_fork_plots(len(rep.plots))
    forked = rp.write_plots(rep, out / "forked")
    rp._can_fork_plots = lambda n: False
    serial = rp.write_plots(rep, out / "serial")
    assert forked == serial == {n: f"plots/{n}.png" for n in names}, (forked, serial)
    for n in names:
        a, b = (out / "forked" / f"{n}.png").read_bytes(), (out / "serial" / f"{n}.png").read_bytes()
        assert a[:8] == b"\\x89PNG\\r\\n\\x1a\\n" and len(a) > 10_000, (n, len(a))
        assert a == b, n
    print("ok")
""")


def test_plots_written_by_forked_processes_equal_one_process(tmp_path):
    pytest.importorskip("matplotlib")
    out = subprocess.run([sys.executable, "-c", _PLOTS, str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-3000:]
