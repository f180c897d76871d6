"""Torch and TF against each other directly, for every native spec, float32."""

from __future__ import annotations

import pytest
from conftest import assert_matches, grid

import xact

torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")

from conftest import TfFramework, TorchFramework  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.tf]


@pytest.mark.parametrize("name", xact.names())
def test_torch_and_tf_agree(name):
    a = grid("float32")
    t, f = TorchFramework(), TfFramework()
    yt, gt, _ = t.value_and_grads(name, t.tensor(a, "float32"), "auto")
    yf, gf, _ = f.value_and_grads(name, f.tensor(a, "float32"), "auto")
    assert_matches(yt, yf, "float32", "value", f"{name}: torch vs tf", spec=xact.get(name))
    assert_matches(gt, gf, "float32", "gradient", f"{name}: torch vs tf", spec=xact.get(name))
