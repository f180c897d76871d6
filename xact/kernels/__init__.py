"""Fused kernels: a spec's own code, compiled once by the framework's compiler.

Eager frameworks run a spec op by op. A careful formula is tens of kernels,
each a full pass over memory, each a Python-level dispatch: that, not the
arithmetic, is what makes an xact activation slower than a built-in. The
adapters therefore hand the same spec code (forward and backward, exactly
what the plain path runs) to the framework's own compiler once per
:class:`Key`, and call the compiled kernel from then on.

Rules (shared by ``xact/kernels/torch.py`` and ``xact/kernels/tf.py``):

* never stall a caller: a kernel is built on one background thread; until it
  is ready, calls run the plain path (with the interpreter's switch interval
  lowered meanwhile, :data:`BUILD_SWITCH_INTERVAL`, so that the caller's
  thread gets the GIL back quickly after each framework op). A kernel this machine has built before
  is loaded on the caller's thread when the adapter's ``known`` says that is
  fast (torch: a program xact saved in the cache directory, :func:`cache_dir`,
  or a marker there once the compiler is loaded in this process);
* never fail a caller: a build that fails leaves that key on the plain path
  for good, and the first failure is announced once with what is missing and
  what it costs (``logging`` logger ``xact`` and one ``warnings.warn``);
* compilation is announced once per kernel through ``logging`` (INFO), never
  printed per call;
* the same numbers: a kernel is the spec's code, traced; the compiler may
  round differently by an ULP or so (the conformance suite runs this path).

``XACT_FUSE=0`` switches kernels off (every call runs the plain path);
``XACT_FUSE=sync`` builds them on the caller's thread (deterministic tests
and benchmarks). :func:`configure` does the same from code.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger("xact")

_MODES = ("background", "sync", "off")


def _mode_from_env() -> str:
    raw = os.environ.get("XACT_FUSE", "").strip().lower()
    if raw in ("0", "off", "false", "no"):
        return "off"
    if raw == "sync":
        return "sync"
    return "background"


_SETTINGS: dict[str, Any] = {"mode": _mode_from_env()}


def configure(mode: str) -> None:
    """``"background"`` (the default), ``"sync"`` (build on the caller's thread) or ``"off"``."""
    if mode not in _MODES:
        raise ValueError(f"fusion mode must be one of {', '.join(map(repr, _MODES))}, got {mode!r}")
    _SETTINGS["mode"] = mode


def mode() -> str:
    return str(_SETTINGS["mode"])


def cache_dir() -> Path:
    """Where xact keeps markers of kernels built before (``XACT_CACHE_DIR`` overrides)."""
    root = os.environ.get("XACT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "xact"
    )
    return Path(root)


class _Failed:
    """A key whose build failed: it stays on the plain path."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class KernelCache:
    """Kernels by key for one framework: built once, in the background unless known.

    :meth:`get` takes ``build()``, which returns the kernel or raises, and
    ``known()``, which says cheaply whether building this key now is quick
    (a program found in the compiler's cache, its compiler already loaded).
    """

    def __init__(self, framework: str, max_entries: int = 512) -> None:
        self.framework = framework
        self.max_entries = max_entries
        self._ready: dict[Hashable, Any] = {}
        self._pending: set[Hashable] = set()
        self._lock = threading.Lock()
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._disabled: str | None = None  # a reason once the compiler is known to be missing
        self._warned = False

    # -- the hot path ----------------------------------------------------------
    def get(self, key: Hashable, build: Callable[[], Any], known: Callable[[], bool], *, sync: bool = False) -> Any:
        """The kernel for ``key``, or None while it is not (or cannot be) built.

        ``sync=True`` (or ``known()``) builds on this thread.
        """
        k = self._ready.get(key)
        if k is not None:
            return None if isinstance(k, _Failed) else k
        current = _SETTINGS["mode"]
        if current == "off" or self._disabled is not None:
            return None
        with self._lock:
            if key in self._ready or key in self._pending:
                k = self._ready.get(key)
                return None if k is None or isinstance(k, _Failed) else k
            if len(self._ready) >= self.max_entries:
                return None  # bounded: many distinct parameter values run plain
            self._pending.add(key)
        if sync or current == "sync" or known():
            self._build(key, build)
            k = self._ready.get(key)
            return None if k is None or isinstance(k, _Failed) else k
        self._pool().submit(self._build_in_background, key, build)
        return None

    # -- building --------------------------------------------------------------
    def _pool(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix=f"xact-{self.framework}-kernels"
                )
            return self._executor

    def _build_in_background(self, key: Hashable, build: Callable[[], Any]) -> None:
        with _fair_gil():
            self._build(key, build)

    def _build(self, key: Hashable, build: Callable[[], Any]) -> None:
        start = time.perf_counter()
        try:
            kernel = build()
        except CompilerMissing as e:
            self._disabled = str(e)
            self._store(key, _Failed(str(e)))
            self._warn(str(e))
            return
        except Exception as e:  # a spec the tracer cannot follow: that spec stays plain
            reason = f"{type(e).__name__}: {e}".splitlines()[0][:300]
            self._store(key, _Failed(reason))
            log.info("xact: no fused %s kernel for %s (%s); it runs the plain path", self.framework, _label(key), reason)
            log.debug("xact: why the %s kernel for %s failed", self.framework, _label(key), exc_info=True)
            return
        self._store(key, kernel)
        log.info("xact: fused %s kernel for %s ready in %.2f s", self.framework, _label(key), time.perf_counter() - start)

    def _store(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._ready[key] = value
            self._pending.discard(key)

    def _warn(self, reason: str) -> None:
        if self._warned:
            return
        self._warned = True
        message = (
            f"xact: fused {self.framework} kernels are unavailable ({reason}); every xact "
            "activation runs its plain path, op by op: typically 2-50x the built-in's time "
            "in eager mode. Set XACT_FUSE=0 to silence this."
        )
        log.warning(message)
        warnings.warn(message, RuntimeWarning, stacklevel=4)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every pending build has finished; True when none is left."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                if not self._pending:
                    return True
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.01)

    def failures(self) -> dict[Hashable, str]:
        return {k: v.reason for k, v in self._ready.items() if isinstance(v, _Failed)}

    def retry(self) -> None:
        """Forget failures (a compiler installed since, say), keeping the kernels built."""
        with self._lock:
            for k in [k for k, v in self._ready.items() if isinstance(v, _Failed)]:
                del self._ready[k]
            self._disabled = None
            self._warned = False

    def clear(self) -> None:
        self.wait()
        with self._lock:
            self._ready.clear()
            self._disabled = None
            self._warned = False


# The GIL while a kernel builds in the background. The caller's thread runs the
# plain path, a few hundred framework ops per call, and a torch op releases the GIL
# and takes it back: each time it waits for the build thread (pure-Python tracing and
# codegen) to yield it, which CPython asks for after the switch interval, 5 ms by
# default. So a 1 ms gelu_tanh call took 0.8-1.4 s during a cold build, with 0.03 s
# of it on the CPU (measured on 2 CPUs, 4,096 elements). With 0.2 ms the slowest call
# of that loop was 0.25 s after the first (the build took 24 s instead of 19). The
# interval is lowered only while a background build runs, and restored after.
BUILD_SWITCH_INTERVAL = 2e-4
_GIL_LOCK = threading.Lock()
_GIL_STATE: dict[str, Any] = {"depth": 0, "saved": None}


@contextlib.contextmanager
def _fair_gil() -> Iterator[None]:
    with _GIL_LOCK:
        if _GIL_STATE["depth"] == 0:
            current = sys.getswitchinterval()
            _GIL_STATE["saved"] = current if current > BUILD_SWITCH_INTERVAL else None
            if _GIL_STATE["saved"] is not None:
                sys.setswitchinterval(BUILD_SWITCH_INTERVAL)
        _GIL_STATE["depth"] += 1
    try:
        yield
    finally:
        with _GIL_LOCK:
            _GIL_STATE["depth"] -= 1
            saved = _GIL_STATE["saved"]
            # restore unless someone else set another interval meanwhile
            if _GIL_STATE["depth"] == 0 and saved is not None \
                    and abs(sys.getswitchinterval() - BUILD_SWITCH_INTERVAL) < 1e-7:
                sys.setswitchinterval(saved)


class CompilerMissing(RuntimeError):
    """The framework's compiler cannot run here (no C++ compiler, say): disables kernels."""


def _label(key: Hashable) -> str:
    if isinstance(key, tuple) and key:
        head = key[0]
        name = getattr(head, "name", head)
        rest = ", ".join(str(k) for k in key[1:3])
        return f"{name!r} ({rest})"
    return repr(key)


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def has_marker(framework: str, fp: str) -> bool:
    return (cache_dir() / f"{framework}-kernels" / fp).exists()


def write_marker(framework: str, fp: str) -> None:
    try:
        d = cache_dir() / f"{framework}-kernels"
        d.mkdir(parents=True, exist_ok=True)
        (d / fp).touch()
    except OSError:  # a read-only home: markers are an optimisation only
        pass
