"""xact.keras under every Keras backend: values, training, save on one and load on another.

Keras picks its backend at import, so each backend runs in subprocesses
(tests/keras_workers.py, two per backend: save, then load) that measure and
print JSON; the tests below assert on those measurements. References are
independent of the code under test: float64 NumPy (the spec through
xact.numpy, dense layers and leaky_relu written out), and the declared
partials for one SGD step. A backend whose framework is not installed is
skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKER = str(Path(__file__).with_name("keras_workers.py"))
TIMEOUT_S = 300
ALL = ("tensorflow", "torch", "jax")


def _missing(backend: str) -> str | None:
    needs = {"tensorflow": ["tensorflow"], "torch": ["torch"], "jax": ["jax", "xact.jax"]}[backend]
    for module in ["keras", *needs]:
        try:
            if importlib.util.find_spec(module) is None:
                return f"{module} not installed"
        except ModuleNotFoundError:
            return f"{module} not installed"
    return None


AVAILABLE = [b for b in ALL if _missing(b) is None]


def backends(*names: str) -> list[Any]:
    return [pytest.param(b, id=b, marks=pytest.mark.skipif(_missing(b) is not None, reason=str(_missing(b))))
            for b in names or ALL]


def pairs() -> list[Any]:
    return [pytest.param(s, t, id=f"{s}->{t}",
                         marks=pytest.mark.skipif(bool(_missing(s) or _missing(t)), reason="backend not installed"))
            for s in ALL for t in ALL]


def _run(phase: str, backend: str, directory: Path) -> dict[str, Any]:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    try:
        proc = subprocess.run([sys.executable, WORKER, phase, str(directory)], capture_output=True,
                              text=True, env=env, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        failed = f"{phase} worker on {backend} timed out after {TIMEOUT_S} s"
    else:
        for line in reversed(proc.stdout.splitlines()):
            if line.startswith("RESULT "):
                return json.loads(line[len("RESULT "):])  # type: ignore[no-any-return]
        failed = f"{phase} worker on {backend} failed (rc {proc.returncode}):\n{proc.stderr[-4000:]}"
    return dict.fromkeys(phase.split("+"), failed)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Any]:
    """Every backend saves before any loads; the last saver loads in the same process."""
    directory = tmp_path_factory.mktemp("keras_backends")
    out: dict[tuple[str, str], Any] = {}
    plan = [("save", b) for b in AVAILABLE[:-1]] + [("save+load", b) for b in AVAILABLE[-1:]]
    plan += [("load", b) for b in AVAILABLE[:-1]]
    for phases, backend in plan:
        for phase, got in _run(phases, backend, directory).items():
            out[(phase, backend)] = got
    return out


def result(runs: dict[tuple[str, str], Any], phase: str, backend: str) -> dict[str, Any]:
    got = runs[(phase, backend)]
    if isinstance(got, str):
        pytest.fail(got)
    return got  # type: ignore[no-any-return]


# ------------------------------------------------------------------ one backend


@pytest.mark.parametrize("backend", backends())
def test_runs_on_the_backend_keras_was_told(runs, backend):
    r = result(runs, "save", backend)
    assert r["backend"] == backend
    assert r["adapters_at_import"] == []  # import xact.keras imports no adapter on a guess


@pytest.mark.parametrize("backend", backends())
def test_model_outputs_match_float64_numpy_reference(runs, backend):
    # float32 model (dense layers + 6 activations, one through the host bridge) vs float64
    assert result(runs, "save", backend)["ref_rel_err"] < 1e-5


@pytest.mark.parametrize("backend", backends())
def test_fit_step_moves_parameters_by_the_declared_gradient(runs, backend):
    r = result(runs, "save", backend)
    assert any(p.endswith("/alpha") for p in r["trainable_weights"])
    assert any(p.endswith("/negative_slope") for p in r["trainable_weights"])
    for name, norm in r["step_norm"].items():
        assert norm > 1e-3, f"model.fit did not move {name}"
    for name, err in r["step_rel_err"].items():  # native elu and bridge leaky_relu parameters, both kernels
        assert err < 1e-4, f"{name}: SGD step differs from the declared-gradient step by {err:.2e}"


@pytest.mark.parametrize("backend", backends())
def test_mixed_float16_computes_in_half_and_trains(runs, backend):
    r = result(runs, "save", backend)["mixed"]
    assert (r["dtype"], r["param_dtype"]) == ("float16", "float32")
    assert r["vs_float32"] < 1e-2  # a few float16 roundings
    assert r["moved"] > 1e-4


@pytest.mark.parametrize("backend", backends())
def test_summary_shows_the_activation(runs, backend):
    summary = result(runs, "save", backend)["summary"]
    for name in ("xact_gelu_tanh", "xact_kw_half", "xact_elu", "xact_kw_cube_host"):
        assert name in summary


@pytest.mark.parametrize("backend", backends())
def test_adapter_attribute_as_activation_arg_saves_as_xact_object(runs, backend):
    # issue 11 item 1: was saved as the string 'leaky_relu' (Keras's own, slope 0.2)
    cfg = result(runs, "save", backend)["dense_activation_config"]
    assert cfg["registered_name"] == "xact>activation"
    assert cfg["config"] == {"activation": "leaky_relu", "mode": "auto", "params": {"negative_slope": 0.01}}


# ------------------------------------------------------------------ across backends


@pytest.mark.parametrize(("source", "target"), pairs())
def test_file_saved_on_one_backend_loads_on_another_with_same_outputs(runs, source, target):
    loaded = result(runs, "load", target)["loaded"]
    assert source in loaded, f"{source}.keras was not saved"
    assert loaded[source]["vs_saved"] < 1e-5
    assert loaded[source]["vs_reference"] < 1e-5


@pytest.mark.parametrize(("source", "target"), pairs())
def test_leaky_relu_activation_arg_keeps_slope_after_reload(runs, source, target):
    leaky = result(runs, "load", target)["leaky"][source]
    # Dense(1, kernel 1, no bias) then leaky_relu(0.01): -3 -> -0.03 (Keras's own: -0.6), 2 -> 2
    assert leaky["y"] == pytest.approx([-0.03, 2.0], rel=1e-6)
    assert leaky["activation"] == "xact.keras.leaky_relu.with_params(negative_slope=0.01)"


# ------------------------------------------------------------------ errors at load


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize(("key", "name"), [("undefined", "kw_half"), ("undefined_activation_arg", "kw_cube_host")])
def test_undefined_user_spec_says_define_it_first(runs, backend, key, name):
    kind, message = result(runs, "load", backend)[key]
    assert kind == "xact.errors.UnknownActivationError"
    assert message.startswith(f"define activation {name!r} before loading")
    assert len(message) < 400


TAMPERED_LIKE_DIRECT = [
    "layer_param_str", "layer_param_nan_str", "layer_param_nan", "layer_param_unknown", "layer_mode_bad",
    "act_param_str", "act_param_nan", "act_param_unknown", "act_mode_native_host",
]


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("case", TAMPERED_LIKE_DIRECT)
def test_tampered_config_is_refused_as_the_direct_api_refuses(runs, backend, case):
    r = result(runs, "load", backend)["tampered"][case]
    assert r["direct"] is not None and r["direct"][0].startswith("xact.errors.")
    assert r["load"] == r["direct"]


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("case", ["layer_key_unknown", "act_key_unknown"])
def test_tampered_config_with_unknown_key_is_refused(runs, backend, case):
    kind, message = result(runs, "load", backend)["tampered"][case]["load"]
    assert kind == "xact.errors.ParameterError"
    assert message.startswith("xact") and "unknown key(s)" in message


@pytest.mark.parametrize("backend", backends())
def test_mode_switched_to_numpy_loads_as_the_direct_api_accepts_it(runs, backend):
    r = result(runs, "load", backend)["tampered"]["layer_mode_numpy"]
    assert r["mode"] == "numpy"
    assert r["ref_rel_err"] < 1e-5


@pytest.mark.skipif(_missing("tensorflow") is not None, reason="tensorflow not installed")
@pytest.mark.parametrize("backend", backends("torch", "jax"))
def test_tf_layer_on_another_backend_points_to_keras_layer(runs, backend):
    kind, message = result(runs, "load", backend)["tf_layer"]
    assert kind == "xact.errors.ModeError"
    assert "xact.keras.Activation('gelu_tanh'" in message and repr(backend) in message


# ------------------------------------------------------------------ in this process (Keras's default backend)


@pytest.fixture(scope="module")
def xk():
    pytest.importorskip("keras")
    import keras

    if _missing(keras.backend.backend()) is not None:
        pytest.skip(f"Keras backend {keras.backend.backend()!r} has no xact adapter here")
    import xact.keras

    return xact.keras


def test_every_adapters_attribute_serialises_to_the_same_xact_config(xk):
    import keras

    import xact.numpy as xnp

    want = {"activation": "leaky_relu", "mode": "auto", "params": {"negative_slope": 0.01}}
    for attribute in (xk.leaky_relu, xnp.leaky_relu):  # framework-free: the shared mechanism
        cfg = keras.activations.serialize(attribute)
        assert cfg["registered_name"] == "xact>activation"
        assert cfg["config"] == want
    back = keras.activations.deserialize(keras.activations.serialize(xnp.leaky_relu))
    y = keras.ops.convert_to_numpy(back(keras.ops.convert_to_tensor([-3.0, 2.0])))
    assert y.tolist() == pytest.approx([-0.03, 2.0], rel=1e-6)  # Keras's own leaky_relu: -0.6
    # issue 11: activation=xact.tf.gelu_tanh saved, then failed to load (no Keras function of that name)
    adapter = importlib.import_module({"tensorflow": "xact.tf", "torch": "xact.torch", "jax": "xact.jax"}[
        keras.backend.backend()])
    back = keras.activations.deserialize(keras.activations.serialize(adapter.gelu_tanh))
    assert repr(back) == "xact.keras.gelu_tanh"
    t = keras.ops.convert_to_tensor([1.0])
    want = 0.5 * (1 + np.tanh(np.sqrt(2 / np.pi) * (1 + 0.044715)))  # the published tanh approximation at 1
    assert float(keras.ops.convert_to_numpy(back(t))[0]) == pytest.approx(want, rel=1e-6)


def test_with_params_saves_its_numbers_and_is_validated_like_apply(xk):
    import keras

    import xact

    bound = xk.elu.with_params(alpha=0.5)
    assert repr(bound) == "xact.keras.elu.with_params(alpha=0.5)"
    assert keras.activations.serialize(bound)["config"]["params"] == {"alpha": 0.5}
    y = keras.ops.convert_to_numpy(bound(keras.ops.convert_to_tensor([-1.0])))
    assert y[0] == pytest.approx(0.5 * (2.718281828459045**-1 - 1), rel=1e-6)
    with pytest.raises(xact.ParameterError, match=r"must be a number.*got str"):
        xk.elu.with_params(alpha="0.5")
    with pytest.raises(xact.ParameterError, match="unexpected parameter"):
        xk.elu.with_params(beta=1.0)
    with pytest.raises(xact.ModeError, match="mode must be one of"):
        xk.elu.with_params(mode="fast")


def test_layer_refuses_bad_parameters_and_names_itself(xk):
    import xact

    assert xk.Activation("gelu_tanh").name.startswith("xact_gelu_tanh")
    a, b = xk.Activation("silu"), xk.Activation("silu")
    assert a.name != b.name  # unique, as Keras's own default names
    assert xk.Activation("silu", name="mine").name == "mine"
    for bad, message in [("2.0", "must be a number"), (float("nan"), "NaN"), (10**400, "too large"),
                         (True, "must be a number")]:
        with pytest.raises(xact.ParameterError, match=message):
            xk.Activation("elu", alpha=bad)
    with pytest.raises(xact.ParameterError, match="param_shape"):
        xk.Activation("elu", trainable=True, param_shape=(-1,))
    with pytest.raises(xact.ParameterError, match="unexpected parameter"):
        xk.Activation("elu", gain=2.0)


@pytest.mark.skipif(_missing("tensorflow") is not None, reason="tensorflow not installed")
@pytest.mark.parametrize("backend", backends())
def test_file_saved_with_the_tf_layer_loads_on_every_backend(runs, backend):
    r = result(runs, "load", backend)["tf_layer_file"]
    want = "xact.tf.Activation" if backend == "tensorflow" else "xact.keras.Activation"
    assert r["class"] == want
    assert r["ref_rel_err"] < 1e-6
