"""The compiled epoch step (``arraynet.steps.compiled.CompiledEpochStep``): mini-batch training with
an optimizer [C2 1.1-1.4] on JAX arrays, an epoch per compiled call, against the generic epoch step
on the same arrays (``fast_paths=False``); one compilation per shapes, kept across epochs and fits;
the arrays handed in and out left alone though the step donates its buffers; the fall back to the
generic step for math JAX cannot compile.

Tolerances (``TOLERANCE``), relative, on the recorded costs and on every array of the parameters
and the optimizer state (each array's differences against its largest magnitude), measured on the
cases below and on the same cases over 15 epochs (4 to 100 updates an epoch) on x86-64 CPUs with
JAX 0.10:

- float64: 1e-9 (measured: at most 1e-14 for gd, momentum and Adam, 2.3e-12 for RMSprop);
- float32: 1e-4 for gd, momentum and Adam (measured: at most 3.7e-6), 2e-2 for RMSprop (measured:
  costs within 4e-5, the arrays within 3.2e-3).

The steps differ by rounding only (XLA fuses the elementwise operations and may reorder them; the
scalars are arrays of the parameters' dtype, as the generic step's Python floats become in its
arithmetic). RMSprop amplifies rounding: ``dW / (sqrt(s) + epsilon)`` is of order 1 whatever the
size of ``dW``, so a gradient component that is rounding noise still moves its weight by about the
learning rate. In float32 the generic step on NumPy and on JAX differ more than that between
themselves (up to 1.4 relative on one array of this network after 15 epochs at batch size 64), and
at learning rates where RMSprop's steps are large (0.05 on the flower data) any two float64 runs
part too; the tests train at 0.01.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

import arraynet
from arraynet.backends import namespace_of, to_numpy
from arraynet.kernel.activations import Activation
from arraynet.kernel.optimizers import get_optimizer
from arraynet.models.training import Schedule
from arraynet.steps import EpochStep, NotApplicable, choose_epoch_step

jax = pytest.importorskip("jax")

X_FLOWER, Y_FLOWER = arraynet.load_flower()  # 400 examples, 2 features
OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")
TOLERANCE = {
    "float64": dict.fromkeys(OPTIMIZERS, 1e-9),
    "float32": {"gd": 1e-4, "momentum": 1e-4, "rmsprop": 2e-2, "adam": 1e-4},
}
# (batch_size, shuffle): 6 batches of 64 and a short one of 16, shuffled; 4 of 100 (no short one);
# in order (slices), with the short one; one batch of all m (never shuffled)
LAYOUTS = {"short-last": (64, True), "whole-batches": (100, True), "in-order": (64, False), "one-batch": (400, True)}


@pytest.fixture(autouse=True)
def _float64():
    jax.config.update("jax_enable_x64", True)  # as tests/conftest.py does for its jax backend


def on_jax(dtype):
    return arraynet.asarray(X_FLOWER.astype(dtype), "jax"), arraynet.asarray(Y_FLOWER.astype(dtype), "jax")


def network(seed=1):
    return arraynet.NeuralNetwork([2, 6, 5, 4, 1], activations=["relu", "leaky_relu", "tanh", "sigmoid"], seed=seed)


def logistic():
    return arraynet.LogisticRegression(init="he", seed=0)


def assert_close(actual, expected, tolerance):
    """Each array within ``tolerance`` of the other, relative to its largest magnitude."""
    actual, expected = to_numpy(actual), to_numpy(expected)
    np.testing.assert_allclose(actual, expected, rtol=tolerance, atol=tolerance * float(np.max(np.abs(expected), initial=0.0)))


def assert_trains_as_the_generic_step(make, optimizer, batch_size, shuffle, dtype, epochs):
    X, Y = on_jax(dtype)
    fast, generic = make(), make()
    fit = {"optimizer": optimizer, "batch_size": batch_size, "epochs": epochs, "shuffle": shuffle}
    history = fast.fit(X, Y, 0.01, **fit)
    expected = generic.fit(X, Y, 0.01, fast_paths=False, **fit)
    tolerance = TOLERANCE[dtype][optimizer]
    assert history.step == "compiled" and expected.step == "generic"
    assert history.epochs == expected.epochs and history.updates == expected.updates
    assert (fast._epochs, fast._updates) == (generic._epochs, generic._updates)
    np.testing.assert_allclose(history.costs, expected.costs, rtol=tolerance)
    parameters, reference = fast.get_parameters(), generic.get_parameters()
    assert parameters.keys() == reference.keys()
    for key, value in fast._parameters.items():
        assert isinstance(value, jax.Array) and value.dtype == X.dtype, key
        assert_close(value, reference[key], tolerance)
    state, reference_state = fast._optimizer_state, generic._optimizer_state
    assert set(state) == set(reference_state) == set(get_optimizer(optimizer).averages)
    for name, average in reference_state.items():
        assert state[name].keys() == average.keys()
        for key, value in average.items():
            assert isinstance(state[name][key], jax.Array) and state[name][key].dtype == X.dtype
            assert_close(state[name][key], value, tolerance)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_a_network_trains_to_the_generic_epoch_steps_numbers(optimizer, layout, dtype):
    """relu, leaky relu and tanh hidden layers; every optimizer, shuffled or not, with and without
    a short last batch, and one batch of all m."""
    batch_size, shuffle = LAYOUTS[layout]
    assert_trains_as_the_generic_step(network, optimizer, batch_size, shuffle, dtype, epochs=8)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("layout", ["short-last", "one-batch"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_logistic_regression_trains_to_the_generic_epoch_steps_numbers(optimizer, layout, dtype):
    batch_size, shuffle = LAYOUTS[layout]
    assert_trains_as_the_generic_step(logistic, optimizer, batch_size, shuffle, dtype, epochs=8)


def test_a_longer_run_with_decay_and_a_second_fit_stays_within_the_tolerance():
    """10 epochs of Adam with decay, then 4 more in a second fit that continues the state and t."""
    X, Y = on_jax("float64")
    fast, generic = network(), network()
    for epochs in (10, 4):
        fit = {"optimizer": "adam", "batch_size": 48, "epochs": epochs, "decay": 0.3}
        history = fast.fit(X, Y, 0.01, **fit)
        expected = generic.fit(X, Y, 0.01, fast_paths=False, **fit)
        assert history.step == "compiled"
        np.testing.assert_allclose(history.costs, expected.costs, rtol=1e-9)
    assert fast._updates == generic._updates == 14 * 9
    for key, value in generic.get_parameters().items():
        assert_close(fast._parameters[key], value, 1e-9)


def test_the_step_keeps_the_epoch_step_protocol():
    X, Y = on_jax("float64")
    model, optimizer = network(), arraynet.Adam()
    xp = namespace_of(X)
    parameters = model._initial_parameters(2, xp, X.dtype, None)
    step = choose_epoch_step(model._kernel(), optimizer, parameters, optimizer.init(parameters), X, Y, 64, xp)
    assert isinstance(step, arraynet.steps.CompiledEpochStep) and isinstance(step, EpochStep)
    assert step.name == "compiled" and step.batches == 7
    assert arraynet.steps.CompiledEpochStep in arraynet.steps.FAST_EPOCH_STEPS
    on_numpy = (X_FLOWER, Y_FLOWER, 64, np)
    with pytest.raises(NotApplicable, match="no compiler is used for numpy arrays"):
        arraynet.steps.CompiledEpochStep.create(model._kernel(), optimizer, parameters, optimizer.init(parameters), *on_numpy)


# -- one compilation per shapes, kept across epochs and fits ---------------------------------------
def test_one_compilation_serves_every_epoch_learning_rate_decay_and_fit_of_the_same_shapes(monkeypatch, caplog):
    from arraynet.steps import compiled

    monkeypatch.setattr(compiled, "_EPOCH_COMPILED", {})  # counted from nothing, whatever ran before
    caplog.set_level(logging.DEBUG, logger="arraynet")
    X, Y = on_jax("float32")
    model = network()
    history = model.fit(X, Y, 0.01, optimizer="adam", batch_size=64, epochs=5)
    (run,) = compiled._EPOCH_COMPILED.values()
    assert history.step == "compiled" and run._cache_size() == 1
    assert caplog.text.count("compiled an epoch of mini-batch updates in") == 1
    caplog.clear()
    model.fit(X, Y, 0.003, optimizer="adam", batch_size=64, epochs=4, decay=1.0, record_every=3)  # continues
    network(seed=7).fit(X, Y, 0.02, optimizer="adam", batch_size=64, epochs=3)  # another model, same math
    shuffled_by_hand = network(seed=2)
    shuffled_by_hand.fit(X, Y, 0.02, optimizer="adam", batch_size=64, epochs=2, shuffle=lambda e: np.arange(400)[::-1])
    assert run._cache_size() == 1 and "compiled an epoch" not in caplog.text
    network().fit(X, Y, 0.01, optimizer="adam", batch_size=64, epochs=2, shuffle=False)  # slices: a second entry
    network().fit(X, Y, 0.01, optimizer="adam", batch_size=64, epochs=2, shuffle=False)
    assert run._cache_size() == 2
    assert len(compiled._EPOCH_COMPILED) == 1  # one function for (this network's math, Adam())
    network().fit(X, Y, 0.01, optimizer=arraynet.Adam(beta1=0.8), batch_size=64, epochs=1)
    assert len(compiled._EPOCH_COMPILED) == 2  # another optimizer's settings: its own


def test_an_epoch_that_runs_long_is_cut_into_calls_so_ctrl_c_is_seen(monkeypatch):
    """The same numbers from calls of any number of batches, one compilation for all of them."""
    from arraynet.steps import compiled

    monkeypatch.setattr(compiled, "_EPOCH_COMPILED", {})
    X, Y = on_jax("float64")
    whole = network()
    whole.fit(X, Y, 0.01, optimizer="momentum", batch_size=8, epochs=3)  # 50 batches per epoch
    calls = []
    call = compiled._call
    monkeypatch.setattr(
        compiled, "_call", lambda function, what, *arguments: calls.append(arguments[7:10]) or call(function, what, *arguments)
    )
    monkeypatch.setattr(compiled, "_FIRST_CHUNK", 7)
    monkeypatch.setattr(compiled, "_CHUNK", 1e-9)  # then one batch per call
    cut = network()
    history = cut.fit(X, Y, 0.01, optimizer="momentum", batch_size=8, epochs=3)
    assert history.step == "compiled"
    assert calls[:3] == [(0, 7, False), (7, 8, False), (8, 9, False)] and calls[-1] == (49, 50, True)
    assert len(calls) == 44 + 2 * 50  # the later epochs start at the size the first one ended with
    run = compiled._EPOCH_COMPILED[(whole._kernel().key, arraynet.Momentum())]
    assert run._cache_size() == 1
    for key, value in whole.get_parameters().items():
        np.testing.assert_allclose(cut.get_parameters()[key], value, rtol=1e-12, atol=1e-15)


# -- donation: the arrays handed in and out stay usable ---------------------------------------------
def test_the_arrays_given_and_handed_out_are_never_donated():
    X, Y = on_jax("float64")
    model = network()
    starting = {key: arraynet.asarray(value, "jax") for key, value in network()._initial_parameters(2, np, np.float64, None).items()}
    model.set_parameters(starting)
    kept = []
    model.fit(X, Y, 0.01, optimizer="adam", batch_size=64, epochs=4, callback=lambda e, cost, m: kept.append((m._parameters, m._optimizer_state)))
    assert len(kept) == 4
    arrays = [value for parameters, state in kept for value in (*parameters.values(), *state["v"].values(), *state["s"].values())]
    assert not any(value.is_deleted() for value in arrays)
    assert not any(value.is_deleted() for value in starting.values())
    assert not any(value.is_deleted() for value in model._parameters.values())
    assert not np.array_equal(to_numpy(kept[0][0]["W1"]), to_numpy(kept[-1][0]["W1"]))  # copies, not one buffer
    again = model.fit(X, Y, 0.01, optimizer="adam", batch_size=64, epochs=1)  # from the model's own arrays
    assert again.step == "compiled" and not any(value.is_deleted() for value in kept[-1][0].values())
    model.predict(X)


def test_fit_contract_holds_callback_stop_and_divergence():
    X, Y = on_jax("float64")
    stopped = network().fit(X, Y, 0.01, optimizer="adam", batch_size=64, epochs=10, callback=lambda e, cost, m: e == 3)
    assert stopped.step == "compiled" and stopped.stopped_early and stopped.epochs[-1] == 3 and stopped.updates == 4 * 7
    model = arraynet.NeuralNetwork([2, 8, 1], hidden_activation="relu", seed=0)
    model.fit(X, Y, 0.01, optimizer="momentum", batch_size=100, epochs=1)
    before = model.get_parameters()
    with pytest.raises(arraynet.DivergenceError, match="in epoch 0") as caught:
        model.fit(X * 1e3, Y, 1e200, optimizer="momentum", batch_size=100, epochs=5)
    assert caught.value.history.step == "compiled"
    for key, value in model.get_parameters().items():  # the parameters it started from, intact
        np.testing.assert_array_equal(to_numpy(value), to_numpy(before[key]))


# -- math JAX cannot compile takes the generic step -------------------------------------------------
def test_math_jax_cannot_compile_or_key_takes_the_generic_epoch_step():
    X, Y = on_jax("float64")

    class Checked(arraynet.Tanh):
        def forward(self, Z, xp):
            if bool(xp.any(Z > 50)):  # a host-side decision: JAX cannot trace it
                raise ValueError("too large")
            return xp.tanh(Z)

    class Own(arraynet.NeuralNetwork):
        def _forward(self, parameters, X, xp):
            return super()._forward(parameters, X, xp)

    class Poly(Activation):
        def __init__(self, coefficients):
            self.coefficients = list(coefficients)  # a list: unhashable

        def forward(self, Z, xp):
            return self.coefficients[0] * Z + self.coefficients[1] * Z * Z

        def backward(self, dA, Z, A, xp):
            return dA * (self.coefficients[0] + 2 * self.coefficients[1] * Z)

    cases = [
        lambda: arraynet.NeuralNetwork([2, 5, 1], activations=[Checked(), "sigmoid"], seed=0),
        lambda: Own([2, 5, 1], hidden_activation="tanh", seed=0),
        lambda: arraynet.NeuralNetwork([2, 5, 1], activations=[Poly([1.0, 0.1]), "sigmoid"], seed=0),
    ]
    for make in cases:
        fast, generic = make(), make()
        history = fast.fit(X, Y, 0.01, optimizer="adam", batch_size=100, epochs=2)
        expected = generic.fit(X, Y, 0.01, optimizer="adam", batch_size=100, epochs=2, fast_paths=False)
        assert history.step == "generic" and history.costs == expected.costs


def test_an_optimizer_jax_cannot_trace_takes_the_generic_epoch_step(caplog):
    class HostMomentum(arraynet.Momentum):
        def _apply(self, parameters, grads, state, scalars, xp):
            learning_rate = float(scalars[0])  # a host float: not traceable
            return super()._apply(parameters, grads, state, (learning_rate,), xp)

    caplog.set_level(logging.DEBUG, logger="arraynet")
    X, Y = on_jax("float64")
    history = network().fit(X, Y, 0.01, optimizer=HostMomentum(), batch_size=100, epochs=2)
    assert history.step == "generic"
    assert "the compiled step does not apply: JAX cannot compile the model's math" in caplog.text


def test_the_schedules_scalars_reach_the_compiled_call_as_arrays_of_the_parameters_dtype():
    """An epoch run by hand: the plan's rows of scalars, one per update, including the short batch."""
    X, Y = on_jax("float32")
    model, optimizer = network(), arraynet.Adam()
    xp = namespace_of(X)
    parameters = model._initial_parameters(2, xp, X.dtype, None)
    step = arraynet.steps.CompiledEpochStep.create(model._kernel(), optimizer, parameters, optimizer.init(parameters), X, Y, 64, xp)
    schedule = Schedule(optimizer, 0.01, None, True, 1, 400, step.batches, 0, 0)
    cost = step.epoch(schedule.epoch(0))
    assert cost.shape == () and cost.dtype == X.dtype
    new, state = step.snapshot()
    assert {value.dtype for value in (*new.values(), *state["v"].values(), *state["s"].values())} == {X.dtype}
    assert not any(value.is_deleted() for value in parameters.values())  # the arrays given are left alone
    assert step.epoch(schedule.epoch(1)) is not None and not any(value.is_deleted() for value in new.values())


@pytest.mark.parametrize("mini_batches", [False, True], ids=["iterations", "epochs"])
def test_threads_fitting_math_jax_cannot_trace_all_fall_back_to_the_generic_step(mini_batches):
    """Each thread's first trace of an untraceable activation fails; none may take another thread's
    half-made cache entry (14 of 20 threads crashed with ConcretizationTypeError)."""
    import threading

    class HostMax(arraynet.Tanh):  # reads a value on the host: JAX cannot trace it
        def forward(self, Z, xp):
            return xp.tanh(Z) * float(xp.max(Z) > -1e9)

    X, Y = on_jax("float64")
    outcomes = []

    def fit():
        model = arraynet.NeuralNetwork([2, 3, 1], activations=[HostMax(), "sigmoid"], seed=0)
        try:
            arguments = {"optimizer": "adam", "batch_size": 16, "epochs": 1} if mini_batches else {"num_iterations": 2}
            outcomes.append(model.fit(X, Y, 0.01, **arguments).step)
        except Exception as exc:  # noqa: BLE001 (the test reports what any thread raised)
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=fit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["generic"] * 8


# -- validation data: evaluated inside the compiled call ---------------------------------------------
@pytest.mark.parametrize("layers", [[2, 6, 5, 1], [2, 6, 3]], ids=["sigmoid", "softmax"])
def test_validation_data_is_evaluated_inside_the_compiled_call(layers, monkeypatch):
    """The validation costs and accuracies of the generic epoch step (to the tolerance), from the
    epochs' compiled calls: ``Kernel.evaluate`` runs only while JAX traces them, once a fit (both
    the recorded epochs and those between, which take the validation data as an argument and skip
    its evaluation, share one compilation), and a second fit of the same shapes, which traces
    nothing, calls it never, where the generic step calls it at every recorded epoch; long epochs
    cut into several calls evaluate in the last only."""
    from arraynet.steps import base, compiled

    monkeypatch.setattr(compiled, "_EPOCH_COMPILED", {})
    X, Y = on_jax("float64")
    if layers[-1] == 3:
        Y = arraynet.asarray(np.digitize(X_FLOWER[0] + X_FLOWER[1], [-1.0, 1.0]).reshape(1, -1).astype(np.float64), "jax")
    evaluations = []
    evaluate = base.Kernel.evaluate
    monkeypatch.setattr(base.Kernel, "evaluate", lambda *arguments: evaluations.append(1) or evaluate(*arguments))
    fit = {"optimizer": "adam", "batch_size": 64, "epochs": 7, "record_every": 3, "validation_data": (X[:, 300:], Y[:, 300:])}
    expected = arraynet.NeuralNetwork(layers, seed=1).fit(X[:, :300], Y[:, :300], 0.01, fast_paths=False, **fit)
    assert expected.step == "generic" and len(evaluations) == 3  # epochs 0, 3 and 6
    for cut in (False, True):
        if cut:  # one batch per call: the evaluation rides on the epoch's last call only
            monkeypatch.setattr(compiled, "_FIRST_CHUNK", 1)
            monkeypatch.setattr(compiled, "_CHUNK", 1e-9)
        evaluations.clear()
        history = arraynet.NeuralNetwork(layers, seed=1).fit(X[:, :300], Y[:, :300], 0.01, **fit)
        assert history.step == "compiled" and history.iterations == [0, 3, 6]
        assert len(evaluations) == (0 if cut else 2)  # traced once (its zeros' shapes, then the cond): never run eagerly
        np.testing.assert_allclose(history.val_costs, expected.val_costs, rtol=1e-9)
        assert history.val_accuracies == expected.val_accuracies
    (run,) = compiled._EPOCH_COMPILED.values()
    assert run._cache_size() == 1
