"""``import xact`` stays cheap and framework-free; adapters import only their own."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import HAS_JAX, HAS_TF, HAS_TORCH


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        check=True, capture_output=True, text=True,
    ).stdout
    return set(out.split())


def test_import_xact_imports_no_framework():
    mods = _modules_after("import xact; xact.names(); xact.get('gelu'); import xact.numpy, xact.testing")
    assert "torch" not in mods
    assert "tensorflow" not in mods
    assert "keras" not in mods
    assert "jax" not in mods


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_torch_adapter_does_not_import_tensorflow():
    mods = _modules_after("import torch, xact.torch as xt; xt.gelu(torch.ones(2))")
    assert "tensorflow" not in mods


@pytest.mark.skipif(not HAS_TF, reason="tensorflow not installed")
def test_tf_adapter_does_not_import_torch():
    mods = _modules_after("import tensorflow as tf, xact.tf as xtf; xtf.gelu(tf.ones(2))")
    assert "torch" not in mods


@pytest.mark.skipif(not HAS_JAX, reason="jax not installed")
def test_jax_adapter_imports_neither_torch_nor_tensorflow():
    mods = _modules_after("import jax, xact.jax as xj; xj.gelu(jax.numpy.ones(2))")
    assert "torch" not in mods
    assert "tensorflow" not in mods
    assert "keras" not in mods


def test_cli_list_runs_without_frameworks_imported():
    out = subprocess.run(
        [sys.executable, "-m", "xact", "list"], check=True, capture_output=True, text=True
    ).stdout
    assert "gelu_tanh" in out and "swish" in out
