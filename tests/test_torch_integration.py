"""torch integration on real models: state dicts, compile, export, ONNX, func, autocast.

Models are a small MLP and a small CNN using xact activations, fixed and
trainable. Native mode throughout unless a test says otherwise.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import xact  # noqa: E402
import xact.torch as xt  # noqa: E402

pytestmark = pytest.mark.torch

# Away from every catalogue kink (integers, halves, +-1, +-3, +-6 ...).
POINTS = [-2.3, -0.7, -0.13, 0.35, 1.1, 2.6]


def mlp(mode: str = "auto") -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(4, 8),
        xt.Activation("gelu_tanh", mode=mode),
        torch.nn.Linear(8, 8),
        xt.Activation("leaky_relu", mode=mode, trainable=True, param_shape=(8,)),
        torch.nn.Linear(8, 2),
        xt.Activation("silu", mode=mode),
    )


def cnn(mode: str = "auto") -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 3, 3),
        xt.Activation("elu", mode=mode, trainable=True, param_shape=(3, 1, 1)),
        torch.nn.Conv2d(3, 2, 3),
        xt.Activation("mish", mode=mode),
        torch.nn.Flatten(),
    )


def _forward_backward(model, x):
    model.zero_grad()
    y = model(x)
    y.backward(torch.linspace(-1, 1, y.numel()).reshape(y.shape))
    return y.detach(), [p.grad.clone() for p in model.parameters()]


def test_state_dict_round_trip_with_weights_only_load(tmp_path):
    model = cnn()
    with torch.no_grad():
        model[1].alpha.fill_(0.7)
    torch.save(model.state_dict(), tmp_path / "w.pt")
    restored = cnn()
    restored.load_state_dict(torch.load(tmp_path / "w.pt", weights_only=True))
    assert torch.equal(restored[1].alpha, model[1].alpha)
    x = torch.randn(2, 1, 7, 7)
    assert torch.equal(restored(x), model(x))


@pytest.mark.parametrize("mode", ["native", "numpy"])
@pytest.mark.parametrize("make", [mlp, cnn], ids=["mlp", "cnn"])
def test_compile_fullgraph_matches_eager(make, mode):
    torch._dynamo.reset()
    model = make(mode)
    x = torch.randn(2, 4) if make is mlp else torch.randn(2, 1, 7, 7)
    y_e, g_e = _forward_backward(model, x)
    compiled = torch.compile(model, fullgraph=True)  # fullgraph: any graph break raises
    y_c, g_c = _forward_backward(compiled, x)
    torch.testing.assert_close(y_c, y_e, rtol=1e-5, atol=1e-6)
    for a, b in zip(g_c, g_e):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("trainable", [False, True])
def test_compile_fullgraph_before_any_eager_call(trainable):
    # The model's first calls are traced: nothing an activation caches on its first
    # call may be written during tracing (a dict written while dynamo traces breaks
    # the graph at the next activation, and the model then runs as several graphs).
    torch._dynamo.reset()
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 4), xt.Activation("leaky_relu", trainable=trainable),
        torch.nn.Linear(4, 4), xt.Activation("elu", trainable=trainable), xt.Activation("silu"),
    )
    x = torch.randn(3, 4)
    compiled = torch.compile(model, fullgraph=True)
    y_c, g_c = _forward_backward(compiled, x)
    y_e, g_e = _forward_backward(model, x)
    torch.testing.assert_close(y_c, y_e, rtol=1e-5, atol=1e-6)
    for a, b in zip(g_c, g_e):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [mlp, cnn], ids=["mlp", "cnn"])
def test_export_runs_and_matches(make):
    model = make()
    x = torch.randn(2, 4) if make is mlp else torch.randn(2, 1, 7, 7)
    program = torch.export.export(model, (x,))
    torch.testing.assert_close(program.module()(x), model(x))


@pytest.mark.parametrize("name", xact.names())
def test_gradcheck_and_gradgradcheck_native(name):
    spec = xact.get(name)
    x = torch.tensor(POINTS, dtype=torch.float64, requires_grad=True)
    params = {
        p: torch.full((1,), d + 0.25 * (d == 0), dtype=torch.float64, requires_grad=True)
        for p, d in spec.params.items()
    }

    def f(x, *ps):
        return xt.apply(name, x, mode="native", **dict(zip(params, ps)))

    inputs = (x, *params.values())
    assert torch.autograd.gradcheck(f, inputs, eps=1e-7, atol=1e-6)
    assert torch.autograd.gradgradcheck(f, inputs, eps=1e-7, atol=1e-6)


def test_bridge_double_backward_needs_declared_second_derivative(fresh_name):
    xact.define(fresh_name, fn=np.vectorize(lambda v: v**3), grad=np.vectorize(lambda v: 3 * v**2))
    x = torch.tensor([0.5, 2.0], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(xt.apply(fresh_name, x).sum(), x, create_graph=True)
    with pytest.raises(xact.ModeError, match="grad2="):
        torch.autograd.grad(g.sum(), x)

    xact.define(
        fresh_name + "_b",
        fn=np.vectorize(lambda v: v**3),
        grad=np.vectorize(lambda v: 3 * v**2),
        grad2=np.vectorize(lambda v: 6 * v),
    )
    (g,) = torch.autograd.grad(xt.apply(fresh_name + "_b", x).sum(), x, create_graph=True)
    (g2,) = torch.autograd.grad(g.sum(), x)
    torch.testing.assert_close(g2, 6 * x.detach())
    assert torch.autograd.gradgradcheck(lambda v: xt.apply(fresh_name + "_b", v), (x,))


def test_torch_func_vmap_and_grad():
    x = torch.linspace(-3, 3, 12, dtype=torch.float64).reshape(3, 4)
    batched = torch.func.vmap(xt.mish)(x)
    torch.testing.assert_close(batched, xt.mish(x))
    per_row = torch.func.vmap(torch.func.grad(lambda r: xt.mish(r).sum()))(x)
    xg = x.clone().requires_grad_()
    xt.mish(xg).sum().backward()
    torch.testing.assert_close(per_row, xg.grad)
    beta = torch.tensor(1.3, dtype=torch.float64)
    dbeta = torch.func.grad(lambda b: xt.apply("elu", x, alpha=b).sum())(beta)
    torch.testing.assert_close(dbeta, torch.where(x > 0, 0.0, torch.expm1(x)).sum())


def test_autocast_bfloat16_follows_elementwise_rules():
    model = mlp()
    x = torch.randn(5, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h = model[0](x)
        assert h.dtype == torch.bfloat16
        y = model[1](h)
        assert y.dtype == torch.bfloat16  # elementwise ops keep their input dtype
        assert xt.gelu(x).dtype == torch.float32
        out = model(x)
    out.float().sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_onnx_export_matches_reference_evaluator():
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    from onnx.reference import ReferenceEvaluator

    model = mlp()
    x = torch.randn(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(model, (x,), dynamo=True, verbose=False)
    proto = program.model_proto
    buf = io.BytesIO(proto.SerializeToString())
    evaluator = ReferenceEvaluator(buf.getvalue())
    (out,) = evaluator.run(None, {proto.graph.input[0].name: x.numpy()})
    np.testing.assert_allclose(out, model(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_export_keeps_the_bridge_as_one_custom_op():
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), xt.Activation("gelu", mode="numpy"))
    x = torch.randn(2, 3)
    program = torch.export.export(model, (x,))
    targets = [str(n.target) for n in program.graph.nodes if n.op == "call_function"]
    assert any("xact.host_values" in t for t in targets), targets
    torch.testing.assert_close(program.module()(x), model(x))


_FIRST_CALL_COMPILED = r"""
import torch, xact.torch as xt
x = torch.linspace(-3.0, 3.0, 13)
def close(a, b):
    return torch.allclose(a, b, rtol=1e-6, atol=1e-7)
out = []
f = torch.compile(lambda t: xt.apply("relu", t), fullgraph=True)  # the very first xact call
with torch.no_grad():
    out.append(close(f(x), xt.relu(x)))
g = torch.compile(lambda t: xt.apply("elu", t, alpha=0.5), fullgraph=True)
with torch.inference_mode():
    out.append(close(g(x), xt.apply("elu", x, alpha=0.5)))
h = torch.compile(lambda t: xt.apply("mish", t), fullgraph=True)
with torch.inference_mode():
    out.append(close(h(x), xt.apply("mish", x)))
xr = x.clone().requires_grad_(True)
k = torch.compile(lambda t: xt.apply("leaky_relu", t, negative_slope=0.2), fullgraph=True)
y = k(xr); y.sum().backward()
xe = x.clone().requires_grad_(True)
ye = xt.apply("leaky_relu", xe, negative_slope=0.2); ye.sum().backward()
out.append(close(y, ye) and close(xr.grad, xe.grad))
# first calls of three names inside one graph: nothing cached on a first call may be
# written while dynamo traces (a dict written then breaks the graph at the next lookup)
m = torch.compile(lambda t: xt.apply("celu", xt.apply("silu", xt.apply("gelu_tanh", t)), alpha=0.7),
                  fullgraph=True)
with torch.no_grad():
    out.append(close(m(x), xt.apply("celu", xt.silu(xt.gelu_tanh(x)), alpha=0.7)))
print("RESULTS", out)
"""


def test_compiled_first_call_and_compile_under_no_grad_and_inference_mode():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", _FIRST_CALL_COMPILED], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "RESULTS [True, True, True, True, True]" in r.stdout


def test_errors_inside_torch_compile_keep_the_xact_message():
    x = torch.ones(3)
    torch._dynamo.reset()
    with pytest.raises(xact.ParameterError, match="parameter 'alpha' must be a number"):
        torch.compile(lambda t: xt.apply("elu", t, alpha="abc"))(x)  # dynamo falls back: the xact error
    torch._dynamo.reset()
    # fullgraph=True: dynamo wraps it in its own error; the xact message stays in it
    with pytest.raises(Exception, match="parameter 'alpha' must be a number"):
        torch.compile(lambda t: xt.apply("elu", t, alpha="abc"), fullgraph=True)(x)


def test_torchscript_is_refused_with_what_to_use_instead():
    model = mlp()
    x = torch.randn(3, 4)
    with pytest.raises(xact.ModeError, match=r"TorchScript.*torch\.export"):
        torch.jit.script(model)
    with pytest.raises(xact.ModeError, match=r"TorchScript.*torch\.export"):
        torch.jit.trace(model, (x,))
    with pytest.raises(xact.ModeError, match="TorchScript"):
        torch.jit.trace(lambda t: xt.apply("gelu", t, mode="numpy"), (x,))
    torch.testing.assert_close(torch.export.export(model, (x,)).module()(x), model(x))  # the way that works
