"""What the benchmarks time: the nets, the targets (library + device) they run on, one training step
of each implementation, and the counts (FLOPs, bytes) the report divides by.

Sizes follow ``ARRAYNET_BENCH_SIZE``: ``full`` (the issue's sizes, default), ``quick`` (the same nets,
shorter sweeps) or ``smoke`` (tiny sizes, for CI: it proves the code runs, it measures nothing).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

import arraynet
from arraynet.backends import _unusable_reason, enable_jax_float64, namespace_for_backend
from arraynet.kernel import loops
from arraynet.steps import BufferedStep, Kernel, train_step

SIZE = os.environ.get("ARRAYNET_BENCH_SIZE", "full")
if SIZE not in ("smoke", "quick", "full"):
    raise ValueError(f"ARRAYNET_BENCH_SIZE must be 'smoke', 'quick' or 'full'; got {SIZE!r}")
SMOKE = SIZE == "smoke"
LEARNING_RATE = 0.01


@dataclass(frozen=True)
class Net:
    """A network of sizes ``layer_dims`` trained on ``m`` examples."""

    name: str
    layer_dims: tuple[int, ...]
    m: int
    hidden: str  # activation of the hidden layers; the output is a sigmoid

    @property
    def activations(self) -> list[str]:
        return [self.hidden] * (len(self.layer_dims) - 2) + ["sigmoid"]

    def flops(self) -> int:
        """Multiply-adds x 2 of one step's matrix products: ``Z = W A`` forward, ``dW = dZ A^T``
        and (above layer 1) ``dA = W^T dZ`` backward. Elementwise work is left out (it is O(n m),
        the products O(n^2 m)), so GFLOP/s is the rate of the useful work."""
        total = 0
        for l in range(1, len(self.layer_dims)):
            gemm = 2 * self.layer_dims[l] * self.layer_dims[l - 1] * self.m
            total += gemm * (3 if l > 1 else 2)
        return total

    def parameter_count(self) -> int:
        n = self.layer_dims
        return sum(n[l] * n[l - 1] + n[l] for l in range(1, len(n)))

    def input_bytes(self, itemsize: int) -> int:
        """The memory held before a step: data ``X, Y`` and parameters."""
        return itemsize * ((self.layer_dims[0] + 1) * self.m + self.parameter_count())

    def min_bytes(self, itemsize: int) -> int:
        """The least memory a step needs: its inputs, the gradients, the cached ``Z`` and ``A`` of
        each layer."""
        caches = 2 * sum(self.layer_dims[1:]) * self.m
        return self.input_bytes(itemsize) + itemsize * (self.parameter_count() + caches)


NETS = {
    "planar": Net("planar", (2, 4, 1), 400, "tanh"),
    "mid": Net("mid", (64, 32, 16, 1), 2000, "relu"),
    "cat": Net("cat", (12288, 20, 7, 5, 1), 209, "relu"),
    "wide": Net("wide", (784, 512, 256, 1), 8192, "relu"),
}
if SMOKE:
    NETS = {
        "planar": Net("planar", (2, 4, 1), 40, "tanh"),
        "mid": Net("mid", (16, 8, 4, 1), 50, "relu"),
        "cat": Net("cat", (96, 20, 7, 5, 1), 21, "relu"),
        "wide": Net("wide", (32, 16, 8, 1), 64, "relu"),
    }
# iterations of one timed fit per net: long enough that a recorded iteration's sync is noise
FIT_ITERATIONS = {"planar": 2000, "mid": 500, "cat": 100, "wide": 10} if not SMOKE else {name: 20 for name in NETS}
LOOP_NETS = ("planar",)  # the loops on the small case only: a cat step takes about 9 s (NumPy)

DOT_N = 1000 if SMOKE else 1_000_000
LR_SHAPE = (5, 20) if SMOKE else (100, 1000)  # (n_x, m) of the logistic regression step
GEMM_SIZES = {"smoke": [64], "quick": [512, 1024], "full": [1024, 2048, 3072]}[SIZE]
SWEEP_HIDDEN = 256
SWEEP_M = {"smoke": [16, 64], "quick": [256, 4096, 32768], "full": [64, 256, 1024, 4096, 16384, 65536]}[SIZE]
SWEEP_M_WIDTH = 4096 if not SMOKE else 64
SWEEP_WIDTH = {"smoke": [4, 16], "quick": [16, 256, 2048], "full": [16, 64, 256, 1024, 4096]}[SIZE]
SWEEP_N_X = 784 if not SMOKE else 32


def sweep_net(m: int, hidden: int) -> Net:
    return Net(f"sweep-{SWEEP_N_X}-{hidden}-1-m{m}", (SWEEP_N_X, hidden, 1), m, "relu")


# -- targets: a library and a device ------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """Where a step runs: ``backend`` (arraynet's name) on ``device``."""

    name: str
    backend: str
    device: Any
    gpu: bool

    @property
    def xp(self) -> ModuleType:
        return namespace_for_backend(self.backend)

    def sync(self, value: Any = None) -> None:
        """Wait for the device: a GPU timing must include the work it queued, and a JAX one the
        computation of ``value`` (JAX dispatches asynchronously on every device)."""
        if self.backend == "jax":
            import jax

            jax.block_until_ready(value)
        elif self.backend == "cupy":
            import cupy

            cupy.cuda.get_current_stream().synchronize()
        elif self.gpu:
            import torch

            torch.cuda.synchronize()

    def dtype(self, name: str) -> Any:
        return getattr(self.xp, name)


def _torch_cuda_usable() -> bool:
    if _unusable_reason("torch") is not None:
        return False
    import torch

    return torch.cuda.is_available() and torch.cuda.device_count() > 0


def all_targets() -> dict[str, Target]:
    """Every target usable here, by name: numpy, torch-cpu, cupy, torch-cuda."""
    targets = {"numpy": Target("numpy", "numpy", None, False)}
    if _unusable_reason("torch") is None:
        targets["torch-cpu"] = Target("torch-cpu", "torch", "cpu", False)
    if _unusable_reason("cupy") is None:
        targets["cupy"] = Target("cupy", "cupy", None, True)
    if _torch_cuda_usable():
        targets["torch-cuda"] = Target("torch-cuda", "torch", "cuda", True)
    if _unusable_reason("jax") is None:
        enable_jax_float64()  # the float64 cases are float64, not float32 in disguise
        targets["jax"] = Target("jax", "jax", None, False)
    return targets


# -- data ---------------------------------------------------------------------------------------
def host_data(n_x: int, m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standard normal ``X`` of shape ``(n_x, m)`` and 0/1 labels ``Y`` of shape ``(1, m)``."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_x, m)), (rng.random((1, m)) > 0.5).astype(np.float64)


def initial_parameters(net: Net, target: Target, dtype: str) -> dict[str, Any]:
    """He-initialized parameters of ``net`` on ``target`` in ``dtype`` (seed 0)."""
    return arraynet.initialize_parameters(
        net.layer_dims, "he", seed=0, xp=target.xp, dtype=target.dtype(dtype), device=target.device
    )


def arrays(net: Net, target: Target, dtype: str) -> tuple[dict[str, Any], Any, Any]:
    """``(parameters, X, Y)`` for ``net`` on ``target`` in ``dtype`` ("float32" or "float64")."""
    xp, dt = target.xp, target.dtype(dtype)
    X, Y = host_data(net.layer_dims[0], net.m)
    return (
        initial_parameters(net, target, dtype),
        xp.asarray(X, dtype=dt, device=target.device),
        xp.asarray(Y, dtype=dt, device=target.device),
    )


# -- one training step, by implementation -------------------------------------------------------
def kernel_of(net: Net) -> Kernel:
    """The math of ``net`` as the steps run it."""
    return arraynet.NeuralNetwork(list(net.layer_dims), activations=list(net.activations))._kernel()


def arraynet_step(net: Net, target: Target, dtype: str) -> Callable[[], Any]:
    """arraynet's vectorized kernel, as ``fit`` runs it (``arraynet.steps.train_step``): forward,
    backward, update."""
    parameters, X, Y = arrays(net, target, dtype)
    generic = train_step(kernel_of(net), target.xp)

    def step() -> Any:
        new, _ = generic(parameters, X, Y, LEARNING_RATE)
        target.sync(new)
        return new

    return step


def arraynet_buffered_step(net: Net, target: Target, dtype: str) -> Callable[[], Any]:
    """arraynet's buffered fast path, as ``fit`` runs it on NumPy and PyTorch CPU float32/float64:
    the same step, into buffers allocated once, the parameters updated in place."""
    parameters, X, Y = arrays(net, target, dtype)
    fast = BufferedStep.create(kernel_of(net), parameters, X, Y, LEARNING_RATE, target.xp)

    def step() -> Any:
        fast.forward()
        fast.update()
        return fast.parameters

    return step


def loops_step(net: Net, target: Target, dtype: str) -> Callable[[], Any]:
    """The same step through ``arraynet.kernel.loops``: one example, one unit at a time."""
    parameters, X, Y = arrays(net, target, dtype)
    activations = net.activations

    def step() -> Any:
        AL, caches = loops.forward(parameters, X, activations)
        new = loops.update(parameters, loops.backward(AL, Y, caches, activations), LEARNING_RATE)
        target.sync(new)
        return new

    return step


def numpy_step(net: Net, target: Target, dtype: str) -> Callable[[], Any]:
    """The floor: the step hand-written in plain NumPy, no namespace, no objects, no checks."""
    parameters, X, Y = arrays(net, target, dtype)
    L = len(net.layer_dims) - 1
    hidden = net.hidden
    m = X.shape[1]

    def step() -> dict[str, np.ndarray]:
        As, Zs = [X], []
        for l in range(1, L + 1):
            Z = parameters[f"W{l}"] @ As[-1] + parameters[f"b{l}"]
            if l == L:  # the kernel's accurate sigmoid, so the ratio measures the kernel, not the formula
                e = np.exp(-np.abs(Z))
                A = np.where(Z >= 0, 1.0, e) / (1.0 + e)
            elif hidden == "relu":
                A = np.maximum(Z, 0)
            else:
                A = np.tanh(Z)
            Zs.append(Z)
            As.append(A)
        dZ = (As[L] - Y) / m
        new = {}
        for l in range(L, 0, -1):
            W = parameters[f"W{l}"]
            new[f"W{l}"] = W - LEARNING_RATE * (dZ @ As[l - 1].T)
            new[f"b{l}"] = parameters[f"b{l}"] - LEARNING_RATE * np.sum(dZ, axis=1, keepdims=True)
            if l > 1:
                dA = W.T @ dZ
                dZ = dA * (Zs[l - 2] > 0) if hidden == "relu" else dA * (1 - As[l - 1] ** 2)
        return new

    return step


def _torch_user_network(net: Net, target: Target, dtype: str) -> tuple[Any, Any, Any]:
    """``(model, optimizer, loss)`` as PyTorch users write them: ``torch.nn`` layers (PyTorch's own
    initialization), ``torch.optim.SGD`` and ``BCEWithLogitsLoss`` (the sigmoid inside the loss)."""
    import torch

    torch.manual_seed(0)
    dt = getattr(torch, dtype)
    layers: list[torch.nn.Module] = []
    dims = net.layer_dims
    for l in range(1, len(dims)):
        layers.append(torch.nn.Linear(dims[l - 1], dims[l]))
        if l < len(dims) - 1:
            layers.append(torch.nn.ReLU() if net.hidden == "relu" else torch.nn.Tanh())
    model = torch.nn.Sequential(*layers).to(device=target.device, dtype=dt)
    return model, torch.optim.SGD(model.parameters(), lr=LEARNING_RATE), torch.nn.BCEWithLogitsLoss()


def _torch_user_data(net: Net, target: Target, dtype: str) -> tuple[Any, Any]:
    """``X, Y`` as PyTorch users hold them: examples as rows."""
    import torch

    dt = getattr(torch, dtype)
    X, Y = host_data(net.layer_dims[0], net.m)
    return (
        torch.as_tensor(X.T.copy(), dtype=dt, device=target.device),
        torch.as_tensor(Y.T.copy(), dtype=dt, device=target.device),
    )


def _torch_user_iteration(model: Any, optimizer: Any, loss_fn: Any, X: Any, Y: Any) -> Any:
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model(X), Y)
    loss.backward()
    optimizer.step()
    return loss


def torch_autograd_step(net: Net, target: Target, dtype: str) -> Callable[[], Any]:
    """The peer people would pick, one step: ``torch.nn`` layers, autograd and ``torch.optim.SGD``,
    with examples as rows and the sigmoid inside ``BCEWithLogitsLoss``, as PyTorch users write it."""
    model, optimizer, loss_fn = _torch_user_network(net, target, dtype)
    X, Y = _torch_user_data(net, target, dtype)

    def step() -> Any:
        loss = _torch_user_iteration(model, optimizer, loss_fn, X, Y)
        target.sync()
        return loss

    return step


def torch_user_fit(net: Net, target: Target, dtype: str) -> Callable[[int], Any]:
    """A PyTorch user's whole training, as ``fit`` is arraynet's: ``fit(n)`` builds the network and
    its optimizer (``_torch_user_network``) and runs ``n`` autograd steps, on data already in
    tensors."""
    X, Y = _torch_user_data(net, target, dtype)

    def fit(n: int) -> Any:
        model, optimizer, loss_fn = _torch_user_network(net, target, dtype)
        for _ in range(n):
            _torch_user_iteration(model, optimizer, loss_fn, X, Y)
        target.sync()
        return model

    return fit


def jax_user_update(net: Net, target: Target, dtype: str) -> tuple[Callable[[Any], Any], Any]:
    """What a JAX user writes: the loss of the same network in ``jax.numpy``, ``jax.grad`` and an
    SGD update under one ``jax.jit`` (``update(parameters) -> parameters``), and the starting
    parameters."""
    import jax
    import jax.numpy as jnp

    parameters, X, Y = arrays(net, target, dtype)
    L = len(net.layer_dims) - 1
    hidden = jnp.tanh if net.hidden == "tanh" else jax.nn.relu

    def loss(p: dict[str, Any]) -> Any:
        A = X
        for l in range(1, L + 1):
            Z = p[f"W{l}"] @ A + p[f"b{l}"]
            A = hidden(Z) if l < L else Z
        return jnp.mean(jax.nn.softplus(A) - Y * A)  # binary cross-entropy from the logits

    @jax.jit
    def update(p: dict[str, Any]) -> dict[str, Any]:
        grads = jax.grad(loss)(p)
        return {key: value - LEARNING_RATE * grads[key] for key, value in p.items()}

    return update, parameters


def jax_jit_step(net: Net, target: Target, dtype: str) -> Callable[[], Any]:
    """The JAX user's step (``jax_user_update``), one dispatch per iteration."""
    update, parameters = jax_user_update(net, target, dtype)
    state = [parameters]

    def step() -> Any:
        state[0] = update(state[0])
        target.sync(state[0])
        return state[0]

    return step


IMPLEMENTATIONS: dict[str, Callable[[Net, Target, str], Callable[[], Any]]] = {
    "arraynet": arraynet_step,
    "arraynet-buffered": arraynet_buffered_step,
    "loops": loops_step,
    "numpy-hand": numpy_step,
    "torch-autograd": torch_autograd_step,
    "jax-jit": jax_jit_step,
}


def runs_on(implementation: str, target: Target) -> bool:
    """Which implementation runs on which target."""
    if implementation == "numpy-hand":
        return target.backend == "numpy"
    if implementation == "arraynet-buffered":
        return target.backend == "numpy" or target.name == "torch-cpu"
    if implementation == "torch-autograd":
        return target.backend == "torch"
    if implementation == "jax-jit":
        return target.backend == "jax"
    if implementation == "loops":  # element by element: on JAX each read is a dispatch of its own
        return target.backend != "jax"
    return True


def peak_memory(make: Callable[[], Callable[[], Any]], target: Target) -> tuple[Callable[[], Any], int | None]:
    """The step that ``make`` builds, and the peak memory in bytes from before it was built to the
    end of its first call (its data, parameters and any buffers it allocates up front included):
    tracemalloc on the CPU (NumPy reports its buffers to it), CuPy's memory pool or PyTorch's
    allocator on a GPU; None where it cannot be measured (PyTorch CPU tensors are invisible to
    tracemalloc, and so are JAX's)."""
    if target.backend == "numpy":
        import tracemalloc

        tracemalloc.start()
        try:
            step = make()
            step()
            return step, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    if target.backend == "cupy":
        import cupy

        # the pool keeps every block it had to allocate (freed blocks return to it, not to the
        # driver), so after releasing the free ones first, its total is the high-water mark
        pool = cupy.get_default_memory_pool()
        target.sync()
        pool.free_all_blocks()
        step = make()
        step()
        return step, int(pool.total_bytes())
    if target.backend == "torch" and target.gpu:
        import torch

        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        start = torch.cuda.memory_allocated()
        step = make()
        step()
        return step, torch.cuda.max_memory_allocated() - start
    step = make()
    step()
    return step, None


def describe(benchmark: Any, group: str, **info: Any) -> None:
    """Name the benchmark's group (implementations and targets side by side) and record the fields
    the report reads (kind, implementation, target, dtype, sizes, flops, bytes) in its JSON."""
    benchmark.group = group
    benchmark.extra_info.update(info)
