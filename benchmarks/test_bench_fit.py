"""Whole ``fit`` calls, the way users train: arraynet's fit on each target (with the step it
chooses there: buffered on NumPy and PyTorch CPU, compiled on JAX) against the loop a JAX user
writes around a ``jax.jit`` step, per iteration once compiled, and a PyTorch user's whole training
(the ``torch.nn`` network built, then autograd steps); and, for the planar net, whole cold
fits (compilation included) as ``num_iterations`` grows, to show where compiling starts to pay."""

from __future__ import annotations

import pytest
from workloads import (
    FIT_ITERATIONS,
    LEARNING_RATE,
    NETS,
    SIZE,
    arrays,
    describe,
    initial_parameters,
    jax_user_update,
    torch_user_fit,
)

import arraynet

ROUNDS = {"smoke": 1, "quick": 3, "full": 7}[SIZE]
COLD_ITERATIONS = {"smoke": [10], "quick": [10, 100, 1000], "full": [10, 100, 1000, 10000]}[SIZE]


def _network(net):
    return arraynet.NeuralNetwork(list(net.layer_dims), hidden_activation=net.hidden, seed=0)


@pytest.mark.parametrize("implementation", ["arraynet-fit", "jax-jit-loop", "torch-autograd-loop"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("net_name", list(NETS))
def test_fit(benchmark, target, net_name, dtype, implementation):
    if implementation == "jax-jit-loop" and target.backend != "jax":
        pytest.skip("the JAX user's loop runs on JAX")
    if implementation == "torch-autograd-loop" and target.backend != "torch":
        pytest.skip("the PyTorch user's training runs on PyTorch")
    net, n = NETS[net_name], FIT_ITERATIONS[net_name]
    step = "jax-user"
    if implementation == "torch-autograd-loop":
        step = "torch-user"
        train = torch_user_fit(net, target, dtype)

        def run():
            return train(n)

        run()  # the warm-up, as for the others
    elif implementation == "arraynet-fit":
        _, X, Y = arrays(net, target, dtype)

        def run():
            return _network(net).fit(X, Y, LEARNING_RATE, n, progress=False)  # records every 100: fit's default

        step = run().step  # the warm-up: compiles where the step compiles
    else:
        update, _ = jax_user_update(net, target, dtype)

        def run():
            current = initial_parameters(net, target, dtype)  # built in the timed call, as fit builds its own
            for _ in range(n):
                current = update(current)
            target.sync(current)
            return current

        run()  # the warm-up: jax.jit compiles
    describe(
        benchmark, f"fit {net_name} {dtype}", kind="fit", implementation=implementation, target=target.name,
        dtype=dtype, net=net_name, iterations=n, step=step,
    )
    benchmark.pedantic(run, rounds=ROUNDS, iterations=1)


@pytest.mark.parametrize("mode", ["fast", "generic"])
@pytest.mark.parametrize("num_iterations", COLD_ITERATIONS)
def test_cold_fit(benchmark, target, num_iterations, mode):
    """The planar net, float64, from nothing: a new model, and on JAX no compiled code kept."""
    if target.backend not in ("numpy", "jax"):
        pytest.skip("the cold fits compare NumPy and JAX")
    if target.backend == "numpy" and mode == "generic":
        pytest.skip("on NumPy the fast step is measured")
    net = NETS["planar"]
    _, X, Y = arrays(net, target, "float64")

    def forget():
        if target.backend == "jax":
            import jax

            from arraynet.steps import compiled

            compiled._COMPILED.clear()
            jax.clear_caches()
        return (), {}

    def run():
        return _network(net).fit(X, Y, LEARNING_RATE, num_iterations, progress=False, fast_paths=mode == "fast")

    forget()
    step = run().step
    describe(
        benchmark, f"cold fit planar n={num_iterations}", kind="fit-cold", implementation=f"arraynet-{step}",
        target=target.name, dtype="float64", net="planar", iterations=num_iterations, step=step,
    )
    benchmark.pedantic(run, setup=forget, rounds=max(1, ROUNDS // 2), iterations=1)
