"""The runnable Keras -> PyTorch port in examples/ agrees on outputs and gradients."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from conftest import HAS_TF, HAS_TORCH

pytestmark = [
    pytest.mark.torch,
    pytest.mark.tf,
    pytest.mark.skipif(not (HAS_TORCH and HAS_TF), reason="needs torch and tensorflow"),
]

EXAMPLE = Path(__file__).parents[1] / "examples" / "port_keras_to_torch.py"
EPS32 = float(np.finfo(np.float32).eps)


def test_port_example_matches_within_float32_rounding():
    spec = importlib.util.spec_from_file_location("port_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    r = module.compare()
    # Convolutions sum ~40 products in different orders per framework: allow
    # 16 float32 epsilons of the result's scale, the activations add none of their own.
    assert r["output_max_abs_diff"] <= 16 * EPS32 * r["output_scale"], r
    assert r["input_grad_max_abs_diff"] <= 16 * EPS32 * r["input_grad_scale"], r
    assert r["output_scale"] > 0.1 and r["input_grad_scale"] > 0.01  # not a trivial zero model
