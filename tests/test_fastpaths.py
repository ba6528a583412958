"""The buffered fast path of ``fit`` on NumPy and PyTorch CPU (buffers allocated once, parameters
updated in place): it gives the generic kernel's numbers bit for bit, it is used only where it
applies, it can be switched off, and it never changes an array the user holds."""

from __future__ import annotations

import numpy as np
import pytest

import arraynet
from arraynet.backends import to_numpy
from arraynet.kernel.activations import Activation, Sigmoid
from arraynet.steps import ENVIRONMENT_VARIABLE, fast_paths_enabled
from arraynet.steps.buffered import BufferedStep, make_step

X_FLOWER, Y_FLOWER = arraynet.load_flower()
LAYER_DIMS = {1: [2, 1], 2: [2, 5, 1], 3: [2, 6, 4, 1]}


def network(L, hidden="tanh"):
    return arraynet.NeuralNetwork(LAYER_DIMS[L], hidden_activation=hidden, seed=1)


@pytest.fixture
def steps_run(monkeypatch):
    """Counts the fast path's steps: how many forward passes it ran."""
    calls = []
    forward = BufferedStep.forward
    monkeypatch.setattr(BufferedStep, "forward", lambda self: calls.append(1) or forward(self))
    return calls


def library_arrays(library, *arrays):
    """The host arrays as NumPy arrays or PyTorch CPU tensors."""
    if library == "numpy":
        return arrays
    torch = pytest.importorskip("torch")
    return tuple(torch.asarray(a) for a in arrays)


@pytest.mark.parametrize("library", ["numpy", "torch"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("L", [1, 2, 3])
@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_the_fast_path_trains_to_the_generic_kernels_costs_and_parameters_bit_for_bit(
    hidden, L, dtype, library, steps_run
):
    if L == 1 and hidden != "sigmoid":
        pytest.skip("one layer is the sigmoid output alone")
    X, Y = library_arrays(library, X_FLOWER.astype(dtype), Y_FLOWER.astype(dtype))
    fast, generic = network(L, hidden), network(L, hidden)
    fast_history = fast.fit(X, Y, learning_rate=0.5, num_iterations=60, record_every=10)
    assert len(steps_run) == 60
    generic_history = generic.fit(
        X, Y, learning_rate=0.5, num_iterations=60, record_every=10, fast_paths=False
    )
    assert len(steps_run) == 60
    assert fast_history.iterations == generic_history.iterations == [0, 10, 20, 30, 40, 50, 59]
    assert fast_history.costs == generic_history.costs
    expected = generic.get_parameters()
    for key, value in fast.get_parameters().items():
        assert type(value) is type(X) and value.dtype == X.dtype
        np.testing.assert_array_equal(to_numpy(value), to_numpy(expected[key]))


def test_the_environment_variable_switches_the_fast_path_off_and_the_argument_wins(monkeypatch, steps_run):
    def fit(**options):
        network(2).fit(X_FLOWER, Y_FLOWER, num_iterations=3, **options)
        return len(steps_run)

    assert fit() == 3
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "0")
    assert fit() == 3
    assert fit(fast_paths=True) == 6
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "1")
    assert fit(fast_paths=False) == 6
    assert fit() == 9


@pytest.mark.parametrize("value", ["0", "false", "No", "off"])
def test_the_environment_variable_reads_the_usual_words_for_off(monkeypatch, value):
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, value)
    assert fast_paths_enabled() is False
    assert fast_paths_enabled(True) is True


def test_a_bad_switch_is_an_error_that_names_it(monkeypatch):
    with pytest.raises(TypeError, match="fast_paths must be True, False or None; got 'no'"):
        network(2).fit(X_FLOWER, Y_FLOWER, num_iterations=1, fast_paths="no")
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "maybe")
    with pytest.raises(ValueError, match=f"{ENVIRONMENT_VARIABLE} must be one of .* got 'maybe'"):
        network(2).fit(X_FLOWER, Y_FLOWER, num_iterations=1)


@pytest.mark.parametrize("library", ["numpy", "torch"])
def test_fit_never_changes_the_arrays_the_user_holds(library, steps_run):
    X, Y = library_arrays(library, X_FLOWER, Y_FLOWER)
    initial = arraynet.initialize_parameters(LAYER_DIMS[3], seed=2)
    mine = dict(zip(initial, library_arrays(library, *(value.copy() for value in initial.values()))))
    model = network(3, "relu")
    model.set_parameters(mine)
    kept = []
    model.fit(
        X,
        Y,
        learning_rate=0.5,
        num_iterations=30,
        record_every=10,
        callback=lambda i, cost, model: kept.append((model.get_parameters(), model.cost(X, Y))),
    )
    after_first = model.get_parameters()
    copies = {key: np.array(to_numpy(value), copy=True) for key, value in after_first.items()}
    model.fit(X, Y, learning_rate=0.5, num_iterations=30)
    assert len(steps_run) == 60
    for key, value in initial.items():
        np.testing.assert_array_equal(to_numpy(mine[key]), value)
    for key, value in after_first.items():
        np.testing.assert_array_equal(to_numpy(value), copies[key])
    # what a callback saw is still the parameters that gave that iteration's cost
    for parameters, cost in kept:
        probe = network(3, "relu")
        probe.set_parameters(parameters)
        assert probe.cost(X, Y) == cost
    assert len({id(parameters["W1"]) for parameters, _ in kept}) == len(kept)


def test_a_diverging_run_raises_as_on_the_generic_kernel():
    X = X_FLOWER * 1e3
    errors, costs = [], []
    for fast_paths in (True, False):
        model = network(2, "relu")
        with pytest.raises(arraynet.DivergenceError) as caught:
            model.fit(
                X, Y_FLOWER, learning_rate=1e200, num_iterations=50, record_every=1, fast_paths=fast_paths
            )
        errors.append(caught.value.iteration)
        costs.append(model.cost(X, Y_FLOWER))
    assert errors[0] == errors[1] >= 1
    assert costs[0] == costs[1] and np.isfinite(costs[0])


class Halved(Activation):
    """An activation the fast path does not know."""

    def forward(self, Z, xp):
        return 0.5 * Z

    def backward(self, dA, Z, A, xp):
        return 0.5 * dA


def test_the_fast_path_applies_only_to_numpy_and_torch_cpu_float32_float64_and_the_builtin_activations(
    xp, to_xp
):
    parameters = arraynet.initialize_parameters([2, 3, 1], seed=0)
    activations = [Sigmoid(), Sigmoid()]
    X, Y = to_xp(X_FLOWER), to_xp(Y_FLOWER)
    buffered = type(X) is np.ndarray or (type(X).__module__ == "torch" and X.device.type == "cpu")
    step = make_step({k: to_xp(v) for k, v in parameters.items()}, X, Y, activations, 0.1)
    assert isinstance(step, BufferedStep) if buffered else step is None
    assert make_step(parameters, X_FLOWER, Y_FLOWER, [Halved(), Sigmoid()], 0.1) is None
    half = {key: value.astype(np.float16) for key, value in parameters.items()}
    assert make_step(half, X_FLOWER.astype(np.float16), Y_FLOWER.astype(np.float16), activations, 0.1) is None
