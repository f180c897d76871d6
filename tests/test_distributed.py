"""xact activations inside the frameworks' own distributed engines, no extra code.

torch: DistributedDataParallel, gloo, two processes on this machine, against
one process on the same global batch. tf: MirroredStrategy over two logical
CPU devices, against a single-device model. Workers run as subprocesses
(tests/distributed_workers.py) with a timeout each.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import HAS_TF, HAS_TORCH

WORKER = str(Path(__file__).with_name("distributed_workers.py"))
TIMEOUT_S = 240
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "OMP_NUM_THREADS": "1"}


def _wait(procs):
    for p in procs:
        try:
            _, err = p.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail("distributed worker timed out")
        assert p.returncode == 0, err.decode()[-3000:]


@pytest.mark.torch
@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
@pytest.mark.parametrize("mode", ["native", "numpy"])
def test_torch_ddp_two_processes_equals_single_process(tmp_path, mode):
    init = tmp_path / "init"
    ddp = [
        subprocess.Popen(
            [sys.executable, WORKER, "torch", str(rank), "2", str(init), str(tmp_path / "ddp.npz"), mode],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
        )
        for rank in range(2)
    ]
    single = subprocess.Popen(
        [sys.executable, WORKER, "torch", "0", "1", str(init), str(tmp_path / "one.npz"), mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
    )
    _wait([*ddp, single])
    got, want = np.load(tmp_path / "ddp.npz"), np.load(tmp_path / "one.npz")
    assert len(got.files) == len(want.files) == 14  # 7 parameters, then their first grads
    for k in want.files:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-6, err_msg=k)
    assert np.abs(want["arr_11"]).sum() > 0  # grad of the xact slope (parameter 4 of 7)


@pytest.mark.tf
@pytest.mark.skipif(not HAS_TF, reason="tensorflow not installed")
@pytest.mark.parametrize("mode", ["native", "numpy"])
def test_tf_mirrored_strategy_equals_single_device(tmp_path, mode):
    proc = subprocess.Popen(
        [sys.executable, WORKER, "tf", str(tmp_path / "tf.npz"), mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
    )
    _wait([proc])
    res = np.load(tmp_path / "tf.npz")
    assert int(res["replicas"]) == 2
    weights = sorted(k.split("_", 1)[1] for k in res.files if k.startswith("single_"))
    assert len(weights) == 7
    for i in weights:
        np.testing.assert_allclose(res[f"mirrored_{i}"], res[f"single_{i}"], rtol=1e-5, atol=1e-6)
    moved = [i for i in weights if not np.array_equal(res[f"single_{i}"], res[f"init_{i}"])]
    assert len(moved) == len(weights)  # every weight, the xact slope included, trained
