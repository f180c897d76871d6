"""nox sessions for xact. `nox -l` lists them with these docstrings.

Every session installs with ``-c constraints.txt`` (the tested versions).
Frameworks are installed by the sessions, not through the package extras:
the tested TensorFlow is the ``tensorflow-cpu`` wheel, while the ``tf``
extra names ``tensorflow`` for users.
"""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

CONSTRAINTS = ("-c", "constraints.txt")
FRAMEWORKS = {
    "torch+tf+jax": ("torch", "tensorflow-cpu", "jax[cpu]"),
    "torch": ("torch",),
    "tf": ("tensorflow-cpu",),
    "jax": ("jax[cpu]",),
}
ALL_FRAMEWORKS = "torch+tf+jax"
QUIET_TF = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore::DeprecationWarning"}


def _install(session: nox.Session, extras: str, frameworks: tuple[str, ...]) -> None:
    session.install(*CONSTRAINTS, *frameworks, "-e", f".[{extras}]")


@nox.session
@nox.parametrize("frameworks", list(FRAMEWORKS), ids=list(FRAMEWORKS))
def tests(session: nox.Session, frameworks: str) -> None:
    """Run the test suite with every framework, then with only torch, only tensorflow, only jax."""
    _install(session, "test", FRAMEWORKS[frameworks])
    # Exit 5 (no tests collected, e.g. a posargs filter matching nothing) is not a
    # failure of the code; pytest's own summary line says "no tests ran".
    # Two workers for the two cores; `nox -s tests -- -n 0` runs serially.
    session.run("pytest", "-n", "2", *session.posargs, env=QUIET_TF, success_codes=[0, 5])


@nox.session
def lint(session: nox.Session) -> None:
    """Lint with ruff (settings in pyproject.toml)."""
    session.install(*CONSTRAINTS, "ruff")
    session.run("ruff", "check", "xact", "tests", "conformance", "examples", "noxfile.py", *session.posargs)


@nox.session(default=False)
def typecheck(session: nox.Session) -> None:
    """Type-check the package with mypy (settings in pyproject.toml)."""
    _install(session, "test", FRAMEWORKS[ALL_FRAMEWORKS])
    session.install(*CONSTRAINTS, "mypy")
    session.run("mypy", "xact", *session.posargs)


@nox.session(default=False)
def conformance(session: nox.Session) -> None:
    """Conformance over the catalogue, then the built-in parity record; writes conformance/report/.
    Narrow with posargs: names, --framework torch|tf|jax, --dtype float32, --mode native|numpy."""
    _install(session, "conformance", FRAMEWORKS[ALL_FRAMEWORKS])
    session.install(*CONSTRAINTS, "onnx")  # the parity record's ONNX oracle
    out = os.environ.get("XACT_REPORT_DIR", "conformance/report")
    # The parity record is written even when conformance fails; the session fails after.
    failed = None
    try:
        session.run("python", "conformance/run.py", "--out", out, *session.posargs, env=QUIET_TF)
    except nox.command.CommandFailed as e:
        failed = e
    session.run("python", "-m", "xact", "parity", "--out", out, env=QUIET_TF)
    if failed is not None:
        session.error(f"conformance failed; see {out}/report.md")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Time native, bridge and built-in forward+backward; writes bench-out/ (posargs: xact bench options)."""
    _install(session, "conformance", FRAMEWORKS["torch"] + FRAMEWORKS["tf"])
    session.run("python", "-m", "xact", "bench", "--out", "bench-out", *session.posargs, env=QUIET_TF)
