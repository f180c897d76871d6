"""Worker processes for tests/test_distributed.py (run as scripts, not collected).

    python distributed_workers.py torch RANK WORLD INIT_FILE OUT MODE
    python distributed_workers.py tf OUT MODE

Each writes the trained parameters (and first-step gradients) to OUT as .npz
so the test can compare them with a single-process run.
"""

from __future__ import annotations

import os
import sys

import numpy as np

STEPS = 3
GLOBAL_BATCH = 8


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((GLOBAL_BATCH, 4)).astype(np.float32)
    return x, np.sin(x[:, :2]).astype(np.float32)


def torch_model(mode: str):
    import torch

    import xact.torch as xt

    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(4, 8),
        xt.Activation("gelu_tanh", mode=mode),
        torch.nn.Linear(8, 8),
        xt.Activation("leaky_relu", mode=mode, trainable=True, param_shape=(8,)),
        torch.nn.Linear(8, 2),
    )


def torch_train(model, x, t, out: str) -> None:
    import torch

    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    first = None
    for step in range(STEPS):
        opt.zero_grad()
        loss = torch.mean((model(torch.from_numpy(x)) - torch.from_numpy(t)) ** 2)
        loss.backward()
        if step == 0:
            first = [p.grad.detach().numpy().copy() for p in model.parameters()]
        opt.step()
    params = [p.detach().numpy() for p in model.parameters()]
    np.savez(out, *params, *first)


def torch_main(rank: int, world: int, init_file: str, out: str, mode: str) -> None:
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    x, t = data()
    if world == 1:
        torch_train(torch_model(mode), x, t, out)
        return
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        model = DistributedDataParallel(torch_model(mode))
        shard = slice(rank * GLOBAL_BATCH // world, (rank + 1) * GLOBAL_BATCH // world)
        torch_train(model, x[shard], t[shard], out if rank == 0 else os.devnull + ".npz")
    finally:
        dist.destroy_process_group()


def tf_main(out: str, mode: str) -> None:
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras

    import xact.tf as xtf

    def build():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([
            keras.Input((4,)),
            keras.layers.Dense(8),
            xtf.Activation("gelu_tanh", mode=mode),
            keras.layers.Dense(8),
            xtf.Activation("leaky_relu", mode=mode, trainable=True, param_shape=(8,)),
            keras.layers.Dense(2),
        ])
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        return model

    x, t = data()
    results = {}
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        mirrored = build()
    results["replicas"] = np.array(strategy.num_replicas_in_sync)
    single = build()
    for i, w in enumerate(single.weights):
        results[f"init_{i}"] = w.numpy()
    for name, model in (("mirrored", mirrored), ("single", single)):
        model.fit(x, t, batch_size=GLOBAL_BATCH, epochs=STEPS, shuffle=False, verbose=0)
        for i, w in enumerate(model.weights):
            results[f"{name}_{i}"] = w.numpy()
    np.savez(out, **results)


if __name__ == "__main__":
    if sys.argv[1] == "torch":
        torch_main(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6])
    else:
        tf_main(sys.argv[2], sys.argv[3])
