"""The buffered epoch step (``arraynet.steps.BufferedEpochStep``): mini-batch training with every
optimizer [C2 1.1-1.4] in place, bit for bit the generic epoch step's costs, parameters and optimizer
state; chosen where it applies (NumPy, PyTorch CPU) and saying why not elsewhere; never changing what
the user holds; its buffers allocated once per fit; each optimizer's in-place form equal to its
``_apply``."""

from __future__ import annotations

import numpy as np
import pytest

import arraynet
from arraynet.backends import backend_name, namespace_of, to_numpy
from arraynet.kernel.activations import Activation
from arraynet.kernel.minibatches import partition
from arraynet.kernel.optimizers import Optimizer
from arraynet.models.training import Schedule
from arraynet.steps import FAST_EPOCH_STEPS, BufferedEpochStep, EpochStep, Kernel, NotApplicable, choose_epoch_step
from arraynet.steps.generic import examples_in_rows
from arraynet.steps.ops import ops_for

from .conftest import TARGETS, backend_cases

X_FLOWER, Y_FLOWER = arraynet.load_flower()  # m = 400: batches of 64 leave a short last one of 16
LAYER_DIMS = {1: [2, 1], 2: [2, 5, 1], 3: [2, 6, 4, 1]}
BUFFERED_TARGETS = tuple(target for target in TARGETS if target[0] in ("numpy", "torch"))


class Halved(Activation):
    """An activation arraynet does not ship, defined by forward and backward alone."""

    def forward(self, Z, xp):
        return 0.5 * Z

    def backward(self, dA, Z, A, xp):
        return 0.5 * dA


class Adagrad(Optimizer):
    """An optimizer arraynet does not ship, defined by ``_apply`` alone: ``s = s + dW^2``,
    ``W = W - alpha dW / (sqrt(s) + 1e-7)``."""

    name = "adagrad"
    averages = ("s",)

    def _apply(self, parameters, grads, state, scalars, xp):
        (learning_rate,) = scalars
        s = {d: state["s"][d] + grads[d] * grads[d] for d in grads}
        updated = {key: value - learning_rate * grads[f"d{key}"] / (xp.sqrt(s[f"d{key}"]) + 1e-7) for key, value in parameters.items()}
        return updated, {"s": s}


class HeavyBall(arraynet.Momentum):
    """A subclass of a built-in optimizer with its own formula (PyTorch's ``v = beta v + dW``): its
    parent's in-place form does not apply to it."""

    def _apply(self, parameters, grads, state, scalars, xp):
        v = {d: self.beta * state["v"][d] + grads[d] for d in grads}
        return {key: value - scalars[0] * v[f"d{key}"] for key, value in parameters.items()}, {"v": v}


class Lookback(Optimizer):
    """Gradient descent whose state keeps the parameters before each update: the very arrays it was
    given, which the buffered step then writes over (its default in-place form copies them first)."""

    name = "lookback"
    averages = ("previous",)

    def _apply(self, parameters, grads, state, scalars, xp):
        updated = {key: value - scalars[0] * grads[f"d{key}"] for key, value in parameters.items()}
        return updated, {"previous": {f"d{key}": value for key, value in parameters.items()}}


BUILT_IN = ["gd", "momentum", "rmsprop", "adam"]
USERS = [Adagrad(), HeavyBall(), Lookback()]

# (L, hidden activation, batch_size, shuffle): every hidden activation at L = 2 and 3, shuffled and in
# order, a short last batch (64: six of 64 and one of 16), batches that divide m (100) and one batch
# of all m (1000 > m)
CASES = [
    (1, "sigmoid", 64, True),
    (2, "tanh", 64, False),
    (2, "relu", 100, True),
    (2, "leaky_relu", 64, True),
    (2, Halved(), 400, False),
    (3, "tanh", 1000, False),
    (3, "sigmoid", 64, True),
    (3, "leaky_relu", 100, False),
    (3, "relu", 64, False),
    (3, Halved(), 64, True),
]
USER_CASES = [CASES[1], CASES[5], CASES[9]]  # the optimizer's arithmetic is what differs: fewer runs


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def network(L, hidden="tanh"):
    return arraynet.NeuralNetwork(LAYER_DIMS[L], hidden_activation=hidden, seed=1)


def buffered_applies(X) -> bool:
    """Where the buffered steps run: NumPy, and PyTorch on the CPU, float32 and float64."""
    name = backend_name(namespace_of(X))
    return name == "numpy" or (name == "torch" and X.device.type == "cpu")


def host(array):
    return np.array(to_numpy(array), copy=True)


def assert_same_bits(actual, expected):
    assert type(actual) is type(expected) and actual.dtype == expected.dtype
    np.testing.assert_array_equal(to_numpy(actual), to_numpy(expected))


def assert_same_state(actual, expected):
    assert set(actual) == set(expected)
    for name, average in expected.items():
        assert set(actual[name]) == set(average)
        for key, value in average.items():
            assert_same_bits(actual[name][key], value)


# -- the generic epoch step's numbers, bit for bit -------------------------------------------------
@pytest.mark.parametrize("backend_case", backend_cases(("float64", "float32"), BUFFERED_TARGETS), indirect=True)
@pytest.mark.parametrize(
    ("optimizer", "cases"),
    [pytest.param(name, CASES, id=name) for name in BUILT_IN] + [pytest.param(user, USER_CASES, id=user.name) for user in USERS],
)
def test_the_buffered_epoch_step_trains_to_the_generic_steps_costs_parameters_and_state(optimizer, cases, backend_case, to_xp):
    dtype = backend_case.case.dtype
    X, Y = to_xp(X_FLOWER, dtype), to_xp(Y_FLOWER, dtype)
    X_kept, Y_kept = host(X), host(Y)
    for i, (L, hidden, batch_size, shuffle) in enumerate(cases):
        where = f"L={L} {hidden} batch_size={batch_size} shuffle={shuffle}"
        fast, generic = network(L, hidden), network(L, hidden)
        options = {"learning_rate": 0.05, "optimizer": optimizer, "batch_size": batch_size, "epochs": 2, "shuffle": shuffle, "decay": 0.5}
        fast_history = fast.fit(X, Y, **options)
        generic_history = generic.fit(X, Y, **options, fast_paths=False)
        assert (fast_history.step, generic_history.step) == ("buffered", "generic"), where
        assert fast_history.updates == generic_history.updates == 2 * len(partition(400, min(batch_size, 400))), where
        assert fast_history.costs == generic_history.costs, where  # host floats: equal is bit for bit
        expected = generic.get_parameters()
        for key, value in fast.get_parameters().items():
            assert_same_bits(value, expected[key])
        assert_same_state(fast._optimizer_state, generic._optimizer_state)
        if i < 2:  # a second fit goes on from the state and counts the first left, on both steps alike
            options["epochs"] = 1
            assert fast.fit(X, Y, **options).costs == generic.fit(X, Y, **options, fast_paths=False).costs, where
            assert_same_state(fast._optimizer_state, generic._optimizer_state)
    np.testing.assert_array_equal(to_numpy(X), X_kept)
    np.testing.assert_array_equal(to_numpy(Y), Y_kept)


@pytest.mark.parametrize("backend_case", backend_cases(("float64", "float32"), BUFFERED_TARGETS), indirect=True)
def test_a_softmax_network_trains_to_the_generic_steps_numbers_with_its_own_cost(backend_case, to_xp):
    """C = 3 classes [C2 3]: the kernel's categorical cost of each batch, labels gathered as the
    step holds them (one column per example)."""
    dtype = backend_case.case.dtype
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 150)
    X = to_xp((np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])[labels] + rng.normal(size=(150, 2))).T, dtype)
    Y = to_xp(labels.reshape(1, -1))
    fast, generic = (arraynet.NeuralNetwork([2, 6, 3], hidden_activation="relu", seed=1) for _ in range(2))
    options = {"learning_rate": 0.05, "optimizer": "adam", "batch_size": 32, "epochs": 3}
    history, expected = fast.fit(X, Y, **options), generic.fit(X, Y, **options, fast_paths=False)
    assert history.step == "buffered" and history.costs == expected.costs
    for key, value in generic.get_parameters().items():
        assert_same_bits(fast.get_parameters()[key], value)
    assert_same_state(fast._optimizer_state, generic._optimizer_state)


@pytest.mark.parametrize("backend_case", backend_cases(("float64", "float32"), BUFFERED_TARGETS), indirect=True)
def test_data_in_fortran_order_trains_as_its_c_order_copy_and_is_gathered_from_without_a_copy(backend_case, xp, to_xp):
    """``X_rows.T`` of a scikit-learn style ``(m, n)`` matrix: a shuffled epoch gathers its batches
    as rows of ``X_rows`` itself (from a copy made once per fit when ``X`` is in C order), on both
    steps, with the numbers of the C-order copy. (NumPy's ``take`` along axis 1 of such an ``X``
    copied all of it for every batch: 37x slower an epoch.)"""
    dtype = backend_case.case.dtype
    X_rows = to_xp(np.ascontiguousarray(X_FLOWER.T), dtype)
    X_c, Y = to_xp(X_FLOWER, dtype), to_xp(Y_FLOWER, dtype)
    assert _storage(examples_in_rows(X_rows.T), xp) == _storage(X_rows, xp)
    assert _storage(examples_in_rows(X_c), xp) != _storage(X_c, xp) and _contiguous(examples_in_rows(X_c), xp)
    options = {"learning_rate": 0.05, "optimizer": "adam", "batch_size": 64, "epochs": 2}
    expected = network(3, "relu").fit(X_c, Y, **options)
    for fast_paths in (True, False):
        model = network(3, "relu")
        history = model.fit(X_rows.T, Y, **options, fast_paths=fast_paths)
        assert history.step == ("buffered" if fast_paths else "generic")
        assert history.costs == expected.costs


@pytest.mark.parametrize("backend_case", backend_cases(("float64",)), indirect=True)
def test_the_buffered_epoch_step_runs_on_numpy_and_torch_and_says_why_not_elsewhere(backend_case, xp, to_xp):
    X, Y = to_xp(X_FLOWER), to_xp(Y_FLOWER)
    model = network(2)
    history = model.fit(X, Y, 0.05, optimizer="adam", batch_size=100, epochs=1)
    parameters = {key: to_xp(value) for key, value in arraynet.initialize_parameters(LAYER_DIMS[2], seed=0).items()}
    arguments = (model._kernel(), arraynet.Adam(), parameters, arraynet.Adam()._init(parameters, xp), X, Y, 64, xp)
    if buffered_applies(X):
        assert history.step == "buffered"
        assert isinstance(BufferedEpochStep.create(*arguments), EpochStep)
    else:
        assert history.step != "buffered"  # generic, or another library's fast step
        with pytest.raises(NotApplicable, match="no in-place operations for"):
            BufferedEpochStep.create(*arguments)
    assert BufferedEpochStep in FAST_EPOCH_STEPS and FAST_EPOCH_STEPS[0] is BufferedEpochStep


def test_the_buffered_epoch_step_refuses_what_it_cannot_run():
    kernel = network(2)._kernel()
    xp = namespace_of(X_FLOWER)
    parameters = arraynet.initialize_parameters(LAYER_DIMS[2], seed=0)
    state = arraynet.Adam()._init(parameters, xp)

    def create(kernel=kernel, optimizer=None, parameters=parameters, state=state, X=X_FLOWER, Y=Y_FLOWER):
        return BufferedEpochStep.create(kernel, optimizer or arraynet.Adam(), parameters, state, X, Y, 64, xp)

    with pytest.raises(NotApplicable, match="not an L-layer network"):
        create(kernel=Kernel(kernel.forward, kernel.backward))
    with pytest.raises(NotApplicable, match="the model's math is its own"):
        create(kernel=Kernel(kernel.forward, kernel.backward, kernel.activations))

    with pytest.raises(NotApplicable, match="no in-place operations for ndarray of dtype float16"):
        create(X=X_FLOWER.astype(np.float16), Y=Y_FLOWER.astype(np.float16))
    with pytest.raises(NotApplicable, match="the parameters are not in X's dtype"):
        create(parameters={key: value.astype(np.float32) for key, value in parameters.items()})
    with pytest.raises(NotApplicable, match="the optimizer's state is not arrays of X's library, dtype and device"):
        create(state={name: {key: value.astype(np.float32) for key, value in average.items()} for name, average in state.items()})
    with pytest.raises(NotApplicable, match="not an arraynet Optimizer"):
        create(optimizer=object())


def test_a_subclass_with_its_own_forward_trains_with_it_in_every_loop():
    """The buffered steps run the library's forward and backward in place: a model that redefines
    them is trained by the generic steps, which call them."""
    calls = []

    class Counted(arraynet.NeuralNetwork):
        def _forward(self, parameters, X, xp):
            calls.append(X.shape[1])
            return super()._forward(parameters, X, xp)

    model = Counted(LAYER_DIMS[2], seed=1)
    assert model.fit(X_FLOWER, Y_FLOWER, 0.05, optimizer="adam", batch_size=100, epochs=1).step == "generic"
    assert model.fit(X_FLOWER, Y_FLOWER, 0.05, num_iterations=2).step == "generic"
    assert calls[:4] == [100] * 4 and len(calls) >= 6


# -- what the user holds, what the model keeps ------------------------------------------------------
@pytest.mark.parametrize("backend_case", backend_cases(("float32",), BUFFERED_TARGETS), indirect=True)
def test_the_step_never_changes_the_arrays_it_was_given_and_its_snapshots_stay_as_they_were(backend_case, xp, to_xp):
    X, Y = to_xp(X_FLOWER, "float32"), to_xp(Y_FLOWER, "float32")
    model = network(3, "relu")
    mine = {key: to_xp(value, "float32") for key, value in arraynet.initialize_parameters(LAYER_DIMS[3], seed=2).items()}
    kept = {key: host(value) for key, value in mine.items()}
    model.set_parameters(mine)
    seen = []
    model.fit(X, Y, 0.01, optimizer="adam", batch_size=64, epochs=3, callback=lambda e, cost, model: seen.append(model.get_parameters()))
    first_state = model._optimizer_state
    first_copies = {name: {key: host(value) for key, value in average.items()} for name, average in first_state.items()}
    seen_copies = [{key: host(value) for key, value in parameters.items()} for parameters in seen]
    assert model.fit(X, Y, 0.01, optimizer="adam", batch_size=64, epochs=2).step == "buffered"
    for key, value in mine.items():
        np.testing.assert_array_equal(to_numpy(value), kept[key])
    for name, average in first_state.items():  # the state a fit went on from is left as it was
        for key, value in average.items():
            np.testing.assert_array_equal(to_numpy(value), first_copies[name][key])
    for parameters, copies in zip(seen, seen_copies):  # what a callback saw stays what it saw
        for key, value in parameters.items():
            np.testing.assert_array_equal(to_numpy(value), copies[key])
    assert len({id(parameters["W1"]) for parameters in seen}) == len(seen) == 3

    # the step itself: snapshots are copies, later epochs leave them alone
    optimizer = arraynet.Adam()
    state = optimizer._init(mine, xp)
    step = choose_epoch_step(model._kernel(), optimizer, mine, state, X, Y, 64, xp)
    assert step.name == "buffered"
    schedule = Schedule(optimizer, 0.01, None, True, 3, 400, step.batches, 0, 0)
    step.epoch(schedule.epoch(0))
    parameters, state_after = step.snapshot()
    copies = {key: host(value) for key, value in parameters.items()}
    again, _ = step.snapshot()
    step.epoch(schedule.epoch(1))
    for key, value in parameters.items():
        assert value is not step.parameters[key] and again[key] is not value
        np.testing.assert_array_equal(to_numpy(value), copies[key])
        assert not np.array_equal(to_numpy(value), to_numpy(step.parameters[key]))  # the step went on
    for name, average in state_after.items():
        for key, value in average.items():
            assert value is not step.state[name][key]
            assert not np.array_equal(to_numpy(value), to_numpy(step.state[name][key]))


# -- buffers allocated once per fit -----------------------------------------------------------------
def _storage(array, xp):
    """Where an array's memory starts (its base's, for a view)."""
    if backend_name(xp) == "torch":
        return array.untyped_storage().data_ptr()
    while array.base is not None:
        array = array.base
    return array.__array_interface__["data"][0]


def _pointer(array, xp) -> int:
    """The address of an array's first element."""
    return array.data_ptr() if backend_name(xp) == "torch" else array.__array_interface__["data"][0]


def _contiguous(array, xp) -> bool:
    return array.is_contiguous() if backend_name(xp) == "torch" else array.flags.c_contiguous


@pytest.mark.parametrize("backend_case", backend_cases(("float64",), BUFFERED_TARGETS), indirect=True)
def test_the_short_last_batch_runs_on_contiguous_views_of_the_same_buffers_and_epochs_allocate_none(backend_case, xp, to_xp):
    X, Y = to_xp(X_FLOWER), to_xp(Y_FLOWER)
    parameters = {key: to_xp(value) for key, value in arraynet.initialize_parameters(LAYER_DIMS[3], seed=0).items()}
    optimizer = arraynet.RMSprop()
    step = BufferedEpochStep.create(network(3)._kernel(), optimizer, parameters, optimizer._init(parameters, xp), X, Y, 64, xp)
    schedule = Schedule(optimizer, 0.01, None, True, 3, 400, step.batches, 0, 0)
    assert step.batches == 7 and set(step._sizes) == {64, 16}
    allocated = []
    empty = step.ops.empty
    step.ops.empty = lambda *arguments, **options: allocated.append(arguments) or empty(*arguments, **options)
    step.epoch(schedule.epoch(0))  # the first shuffled epoch allocates the gathered batches' buffers
    assert len(allocated) == 2
    step.epoch(schedule.epoch(1))
    step.epoch(Schedule(optimizer, 0.01, None, False, 3, 400, step.batches, 2, 14).epoch(0))  # in order: slices
    assert len(allocated) == 2
    full, short = step._sizes[64], step._sizes[16]
    for l in range(1, 4):
        for name in ("Z", "A", "dZ"):
            big, small = getattr(full, name)[l], getattr(short, name)[l]
            assert tuple(small.shape) == (LAYER_DIMS[3][l], 16) and _contiguous(small, xp)
            assert _storage(small, xp) == _storage(big, xp)
        assert _storage(short.work[l].values, xp) == _storage(full.work[l].values, xp)
    X_rows, _, gathered = step._gathered  # the batches are gathered as rows of the examples in rows
    assert tuple(X_rows.shape) == (400, 2) and _contiguous(X_rows, xp)
    (X_64, Y_64), (X_16, Y_16) = gathered[64], gathered[16]
    assert tuple(X_16.shape) == (16, 2) and _contiguous(X_16, xp) and _contiguous(Y_16, xp)
    assert _storage(X_16, xp) == _storage(X_64, xp) and _storage(Y_16, xp) == _storage(Y_64, xp)
    # the parameters, gradients, averages and scratch: views of one flat array each, 64-byte aligned
    # within it, handed to the built-in optimizer as the flat arrays; the gaps between them stay zero
    # (the scratch's, written before they are read, finite)
    parameters, grads, state, scratch = step._update_arguments
    packs = ((step.parameters, parameters["all"]), (step.grads, grads["dall"]), (step.state["s"], state["s"]["dall"]), (step.scratch, scratch["dall"]))
    for views, packed in packs:
        covered = np.zeros(packed.shape[0], bool)
        for view in views.values():
            offset = (_pointer(view, xp) - _pointer(packed, xp)) // view.dtype.itemsize
            assert (offset * view.dtype.itemsize) % 64 == 0 and _contiguous(view, xp)
            covered[offset : offset + int(np.prod(view.shape))] = True
        gaps = to_numpy(packed)[~covered]
        assert gaps.size > 0 and (np.all(np.isfinite(gaps)) if views is step.scratch else not np.any(gaps))


# -- each optimizer's in-place form -----------------------------------------------------------------
@pytest.mark.parametrize("backend_case", backend_cases(("float64", "float32"), BUFFERED_TARGETS), indirect=True)
@pytest.mark.parametrize("optimizer", [*BUILT_IN, arraynet.Adam(0.5, 0.7, 1e-3)], ids=str)
def test_every_optimizers_in_place_form_is_its_apply_bit_for_bit(optimizer, backend_case, xp, to_xp):
    """On random parameters, gradients and state, at update 7 (Adam's corrections far from 1), with
    the scalars as a plan's rows give them."""
    dtype = backend_case.case.dtype
    optimizer = arraynet.kernel.optimizers.get_optimizer(optimizer)
    rng = np.random.default_rng(7)
    shapes = {"W1": (5, 3), "b1": (5, 1), "W2": (1, 5), "b2": (1, 1)}

    def draw(scale=1.0):
        return {key: to_xp(scale * rng.standard_normal(shape), dtype) for key, shape in shapes.items()}

    parameters, grads = draw(), {f"d{key}": value for key, value in draw(1e-2).items()}
    state = {name: {f"d{key}": xp.abs(value) for key, value in draw(1e-3).items()} for name in optimizer.averages}
    scalars = tuple(np.array([optimizer.scalars(0.01, 7)], dtype=np.float64).tolist()[0])
    expected, expected_state = optimizer._apply(parameters, grads, state, scalars, xp)
    ops = ops_for(xp, parameters["W1"])
    copy = ops.copy
    parameters, grads = {key: copy(value) for key, value in parameters.items()}, {key: copy(value) for key, value in grads.items()}
    state = {name: {key: copy(value) for key, value in average.items()} for name, average in state.items()}
    optimizer._apply_into(parameters, grads, state, scalars, ops, {key: ops.empty(tuple(value.shape), value) for key, value in grads.items()})
    for key, value in expected.items():
        assert_same_bits(parameters[key], value)
    assert_same_state(state, expected_state)


def test_a_subclass_that_redefines_apply_gets_the_default_in_place_form_which_is_not_elementwise():
    assert HeavyBall._apply_into is Optimizer._apply_into is Adagrad._apply_into
    assert arraynet.Momentum._apply_into is not Optimizer._apply_into
    assert not (Optimizer._elementwise or HeavyBall._elementwise or Adagrad._elementwise or Lookback._elementwise)
    assert all(cls._elementwise for cls in (arraynet.GradientDescent, arraynet.Momentum, arraynet.RMSprop, arraynet.Adam))

    class Scaled(arraynet.Adam):  # new settings, the same formula: keeps Adam's in-place form
        def scalars(self, learning_rate, t):
            return super().scalars(2 * learning_rate, t)

    class Own(arraynet.Adam):  # its own in-place form: elementwise only if it says so
        def _apply_into(self, parameters, grads, state, scalars, ops, scratch):
            super()._apply_into(parameters, grads, state, scalars, ops, scratch)

    assert Scaled._apply_into is arraynet.Adam._apply_into and Scaled._elementwise
    assert not Own._elementwise


def test_an_optimizer_whose_apply_changes_dtype_or_keys_is_an_error_in_the_buffered_step():
    class Single(Adagrad):
        def _apply(self, parameters, grads, state, scalars, xp):
            updated, new_state = super()._apply(parameters, grads, state, scalars, xp)
            return {key: xp.astype(value, xp.float32) for key, value in updated.items()}, new_state

    class Forgetful(Adagrad):
        def _apply(self, parameters, grads, state, scalars, xp):
            return super()._apply(parameters, grads, state, scalars, xp)[0], {}

    with pytest.raises(TypeError, match=r"Single\._apply must return an array of its input's shape and dtype, \(5, 2\) float64; got \(5, 2\) float32"):
        network(2).fit(X_FLOWER, Y_FLOWER, optimizer=Single(), batch_size=64, epochs=1)
    with pytest.raises(TypeError, match=r"Forgetful\._apply must return the parameters it was given"):
        network(2).fit(X_FLOWER, Y_FLOWER, optimizer=Forgetful(), batch_size=64, epochs=1)


def test_an_x_whose_rows_copy_would_pass_the_budget_is_gathered_by_columns_without_a_copy(monkeypatch):
    """``examples_in_rows`` copies a C-order ``X`` once per fit, up to ``ROWS_COPY_BYTES``; past it the
    generic step gathers columns (the same numbers) and the buffered one does not apply, saying
    why; a Fortran-order ``X`` is never copied."""
    from arraynet.steps import generic

    monkeypatch.setattr(generic, "ROWS_COPY_BYTES", X_FLOWER.nbytes - 1)
    monkeypatch.setattr("arraynet.steps.buffered.ROWS_COPY_BYTES", X_FLOWER.nbytes - 1)
    assert generic.examples_in_rows(X_FLOWER) is None and generic.examples_in_rows(np.asfortranarray(X_FLOWER)) is not None
    options = {"learning_rate": 0.05, "optimizer": "adam", "batch_size": 64, "epochs": 2}
    big = network(2).fit(X_FLOWER, Y_FLOWER, **options)
    assert big.step == "generic"
    with pytest.raises(NotApplicable, match="would copy X \\(2 x 400, C order\\).*pass X in Fortran order"):
        BufferedEpochStep.create(network(2)._kernel(), arraynet.Adam(), *_start(2), X_FLOWER, Y_FLOWER, 64, namespace_of(X_FLOWER))
    fortran = network(2).fit(np.asfortranarray(X_FLOWER), Y_FLOWER, **options)
    assert fortran.step == "buffered" and fortran.costs == big.costs


def _start(L):
    parameters = arraynet.initialize_parameters(LAYER_DIMS[L], seed=0)
    return parameters, arraynet.Adam()._init(parameters, namespace_of(X_FLOWER))
