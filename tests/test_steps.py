"""The steps of ``fit`` (``arraynet.steps``): every one gives the generic kernel's numbers bit for
bit, it is chosen only where it applies and says why not, it can be switched off, it never changes
an array the user holds, and every step and every library's in-place operations keep one declared
interface."""

from __future__ import annotations

import importlib
import inspect
import logging

import numpy as np
import pytest

import arraynet
from arraynet.backends import _unusable_reason, backend_name, to_numpy
from arraynet.kernel.activations import Activation
from arraynet.kernel.inplace import InPlaceOps, Workspace
from arraynet.steps import (
    ENVIRONMENT_VARIABLE,
    FAST_STEPS,
    BufferedStep,
    GenericStep,
    Kernel,
    NotApplicable,
    Step,
    choose_step,
    fast_paths_enabled,
    train_step,
)
from arraynet.steps import ops as ops_module

from .conftest import backend_cases

X_FLOWER, Y_FLOWER = arraynet.load_flower()
LAYER_DIMS = {1: [2, 1], 2: [2, 5, 1], 3: [2, 6, 4, 1]}


def network(L, hidden="tanh"):
    return arraynet.NeuralNetwork(LAYER_DIMS[L], hidden_activation=hidden, seed=1)


class Halved(Activation):
    """An activation arraynet does not ship, defined by forward and backward alone."""

    def forward(self, Z, xp):
        return 0.5 * Z

    def backward(self, dA, Z, A, xp):
        return 0.5 * dA


class LeCunTanh(arraynet.Tanh):
    """A subclass of a built-in activation with its own formula: the parent's in-place form does
    not apply to it."""

    def forward(self, Z, xp):
        return 1.7159 * xp.tanh(Z * (2 / 3))

    def backward(self, dA, Z, A, xp):
        return dA * (1.7159 * 2 / 3) * (1 - (A / 1.7159) ** 2)


def buffered_applies(X) -> bool:
    """Where the buffered step runs: NumPy, and PyTorch on the CPU, float32 and float64."""
    name = backend_name(arraynet.backends.namespace_of(X))
    return name == "numpy" or (name == "torch" and X.device.type == "cpu")


def expected_step(X, network: bool = True) -> str:
    """The step fit chooses for X: compiled on JAX, buffered for a network on NumPy and PyTorch CPU."""
    if backend_name(arraynet.backends.namespace_of(X)) == "jax":
        return "compiled"
    return "buffered" if network and buffered_applies(X) else "generic"


# how close a step's numbers are to the generic kernel's: bit for bit where it runs the same operations
# in the same order; to rounding where a compiler fuses and reorders them (after 60 iterations here)
RTOL = {"generic": 0.0, "buffered": 0.0, "compiled": {"float64": 1e-9, "float32": 1e-4}}


def assert_close(step, dtype, actual, expected):
    rtol = RTOL[step] if isinstance(RTOL[step], float) else RTOL[step][dtype]
    if rtol == 0.0:
        np.testing.assert_array_equal(actual, expected)
    else:
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * 1e-2)


# -- the fast steps equal the generic kernel -------------------------------------------------------
@pytest.mark.parametrize("backend_case", backend_cases(("float64", "float32")), indirect=True)
@pytest.mark.parametrize("L", [1, 2, 3])
@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu", "leaky_relu", Halved(), LeCunTanh()], ids=str)
def test_every_step_trains_to_the_generic_kernels_costs_and_parameters(hidden, L, backend_case, to_xp):
    """Bit for bit for the buffered step; within RTOL for the compiled one."""
    if L == 1 and hidden != "sigmoid":
        pytest.skip("one layer is the sigmoid output alone")
    dtype = backend_case.case.dtype
    X, Y = to_xp(X_FLOWER, dtype), to_xp(Y_FLOWER, dtype)
    fast, generic = network(L, hidden), network(L, hidden)
    fast_history = fast.fit(X, Y, learning_rate=0.5, num_iterations=60, record_every=10)
    generic_history = generic.fit(X, Y, learning_rate=0.5, num_iterations=60, record_every=10, fast_paths=False)
    assert fast_history.step == expected_step(X)
    assert generic_history.step == "generic"
    assert fast_history.iterations == generic_history.iterations == [0, 10, 20, 30, 40, 50, 59]
    assert_close(fast_history.step, dtype, fast_history.costs, generic_history.costs)
    expected = generic.get_parameters()
    for key, value in fast.get_parameters().items():
        assert type(value) is type(X) and value.dtype == X.dtype
        assert_close(fast_history.step, dtype, to_numpy(value), to_numpy(expected[key]))


@pytest.mark.parametrize("backend_case", backend_cases(("float64",)), indirect=True)
def test_logistic_regression_trains_to_the_generic_kernels_costs_on_every_step(backend_case, to_xp):
    X, Y = to_xp(X_FLOWER), to_xp(Y_FLOWER)
    fast, generic = arraynet.LogisticRegression(), arraynet.LogisticRegression()
    fast_history = fast.fit(X, Y, learning_rate=0.1, num_iterations=250, record_every=100)
    generic_history = generic.fit(X, Y, learning_rate=0.1, num_iterations=250, record_every=100, fast_paths=False)
    assert fast_history.step == expected_step(X, network=False)
    assert fast_history.iterations == generic_history.iterations == [0, 100, 200, 249]
    assert_close(fast_history.step, "float64", fast_history.costs, generic_history.costs)


def test_an_activation_whose_result_changes_dtype_is_an_error_in_the_buffered_step():
    class Single(arraynet.Tanh):
        def forward(self, Z, xp):
            return xp.astype(xp.tanh(Z), xp.float32)

    with pytest.raises(TypeError, match=r"Single\.forward must return an array of its input's shape and dtype, \(5, 400\) float64; got \(5, 400\) float32"):
        network(2, Single()).fit(X_FLOWER, Y_FLOWER, num_iterations=2)


def test_a_subclass_of_numpys_array_takes_the_generic_step():
    view = X_FLOWER.view(type("Subclass", (np.ndarray,), {}))
    assert network(2).fit(view, Y_FLOWER, num_iterations=2).step == "generic"


def test_the_generic_step_is_a_pure_function_of_the_parameters():
    model = network(2)
    parameters = arraynet.initialize_parameters(LAYER_DIMS[2], seed=1)
    copies = {key: value.copy() for key, value in parameters.items()}
    xp = arraynet.backends.namespace_of(X_FLOWER)
    step = train_step(model._kernel(), xp)
    updated, ZL = step(parameters, X_FLOWER, Y_FLOWER, 0.5)
    again, ZL_again = step(parameters, X_FLOWER, Y_FLOWER, 0.5)
    for key, value in parameters.items():
        np.testing.assert_array_equal(value, copies[key])  # nothing changed in place
        np.testing.assert_array_equal(updated[key], again[key])  # same input, same output
    np.testing.assert_array_equal(ZL, ZL_again)
    AL, caches = arraynet.forward(parameters, X_FLOWER, ["tanh", "sigmoid"])
    np.testing.assert_array_equal(ZL, caches[-1].Z)  # Z^[L] of the parameters given, before the update
    grads = arraynet.backward(AL, Y_FLOWER, caches, ["tanh", "sigmoid"])
    expected = arraynet.update(parameters, grads, 0.5)
    for key, value in expected.items():
        np.testing.assert_array_equal(updated[key], value)


# -- which step runs -----------------------------------------------------------------------------
def test_a_fast_step_that_does_not_apply_says_why_and_the_generic_kernel_runs(xp, to_xp, caplog):
    caplog.set_level(logging.DEBUG, logger="arraynet")
    X, Y = to_xp(X_FLOWER), to_xp(Y_FLOWER)
    model = arraynet.LogisticRegression()
    history = model.fit(X, Y, num_iterations=3)
    assert history.step == expected_step(X, network=False)
    assert "the buffered step does not apply: the model is not an L-layer network" in caplog.text
    caplog.clear()
    parameters = {key: to_xp(value) for key, value in arraynet.initialize_parameters([2, 3, 1], seed=0).items()}
    kernel = network(2)._kernel()
    step = choose_step(kernel, parameters, X, Y, 0.1, xp)
    assert step.name == expected_step(X)
    assert isinstance(step, Step)
    if not buffered_applies(X):
        assert "the buffered step does not apply: no in-place operations for" in caplog.text
    if expected_step(X) == "generic":
        assert f"the compiled step does not apply: no compiler is used for {backend_name(xp)} arrays" in caplog.text


def test_the_buffered_step_refuses_what_it_cannot_run():
    kernel = network(2)._kernel()
    xp = arraynet.backends.namespace_of(X_FLOWER)
    parameters = arraynet.initialize_parameters([2, 3, 1], seed=0)
    half = {key: value.astype(np.float16) for key, value in parameters.items()}
    with pytest.raises(NotApplicable, match="no in-place operations for ndarray of dtype float16"):
        BufferedStep.create(kernel, half, X_FLOWER.astype(np.float16), Y_FLOWER.astype(np.float16), 0.1, xp)
    with pytest.raises(NotApplicable, match="not an L-layer network"):
        BufferedStep.create(Kernel(kernel.forward, kernel.backward), parameters, X_FLOWER, Y_FLOWER, 0.1, xp)
    single = {key: value.astype(np.float32) for key, value in parameters.items()}
    with pytest.raises(NotApplicable, match="not in X's dtype"):
        BufferedStep.create(kernel, single, X_FLOWER, Y_FLOWER, 0.1, xp)


def test_the_environment_variable_switches_the_fast_path_off_and_the_argument_wins(monkeypatch):
    def step(**options):
        return network(2).fit(X_FLOWER, Y_FLOWER, num_iterations=3, **options).step

    assert step() == "buffered"
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "0")
    assert step() == "generic"
    assert step(fast_paths=True) == "buffered"
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "1")
    assert step(fast_paths=False) == "generic"
    assert step() == "buffered"


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


# -- what the user holds never changes -----------------------------------------------------------
def test_fit_never_changes_the_arrays_the_user_holds(xp, to_xp):
    X, Y = to_xp(X_FLOWER), to_xp(Y_FLOWER)
    initial = arraynet.initialize_parameters(LAYER_DIMS[3], seed=2)
    mine = {key: to_xp(value) for key, value in initial.items()}
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
            model.fit(X, Y_FLOWER, learning_rate=1e200, num_iterations=50, record_every=1, fast_paths=fast_paths)
        errors.append(caught.value.iteration)
        costs.append(model.cost(X, Y_FLOWER))
    assert errors[0] == errors[1] >= 1
    assert costs[0] == costs[1] and np.isfinite(costs[0])


# -- one interface per kind of plug-in (thinc's test_ops_consistency) ------------------------------
def _ops_classes():
    modules = [ops_module]
    if _unusable_reason("torch") is None:
        modules.append(importlib.import_module("arraynet.steps.torch_ops"))
    return [
        cls
        for module in modules
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, InPlaceOps) and cls is not InPlaceOps
    ]


OPS = _ops_classes()
DECLARED = {name for name in vars(InPlaceOps) if not name.startswith("_") and callable(getattr(InPlaceOps, name))}


def test_there_are_in_place_operations_for_numpy_and_torch():
    if _unusable_reason("torch") is not None:
        pytest.skip(f"backend torch is not usable: {_unusable_reason('torch')}")
    assert {cls.__name__ for cls in OPS} == {"NumpyOps", "TorchOps"}


@pytest.mark.parametrize("ops", OPS, ids=lambda cls: cls.__name__)
def test_every_libraries_in_place_operations_have_the_declared_methods_and_signatures(ops):
    assert not ops.__abstractmethods__, f"{ops.__name__} leaves {sorted(ops.__abstractmethods__)} undefined"
    public = {name for name in dir(ops) if not name.startswith("_") and callable(getattr(ops, name))}
    assert public == DECLARED  # nothing more, nothing less
    for name in DECLARED:
        method = inspect.getattr_static(ops, name)
        function = method.__func__ if isinstance(method, staticmethod) else method
        if inspect.isfunction(function):  # written here: the declared parameters, in order
            assert inspect.signature(function) == inspect.signature(getattr(InPlaceOps, name)), name
        # a library function bound directly is held to the declared call by the next test


def test_the_in_place_operations_compute_the_array_api_expressions_they_stand_for(xp, to_xp):
    ops = ops_module.ops_for(xp, to_xp(X_FLOWER))
    if ops is None:
        pytest.skip(f"{backend_name(xp)} has no in-place operations here")
    rng = np.random.default_rng(0)
    a, b = to_xp(rng.standard_normal((3, 4))), to_xp(rng.standard_normal((3, 4)))
    out, mask = ops.empty((3, 4), a), ops.empty((3, 4), a, boolean=True)
    rows = to_xp(np.array([2, 0, 1]))
    cases = {  # each called as InPlaceOps declares it
        "matmul": (lambda: ops.matmul(a[:, :3], b[:3, :], out=out), a[:, :3] @ b[:3, :]),
        "add": (lambda: ops.add(a, b, out=out), a + b),
        "subtract": (lambda: ops.subtract(a, 0.5, out=out), a - 0.5),
        "subtract_from": (lambda: ops.subtract_from(1.0, a, out=out), 1.0 - a),
        "multiply": (lambda: ops.multiply(a, b, out=out), a * b),
        "divide": (lambda: ops.divide(a, b, out=out), a / b),
        "negative": (lambda: ops.negative(a, out=out), -a),
        "abs": (lambda: ops.abs(a, out=out), xp.abs(a)),
        "exp": (lambda: ops.exp(a, out=out), xp.exp(a)),
        "sqrt": (lambda: ops.sqrt(xp.abs(a), out=out), xp.sqrt(xp.abs(a))),
        "tanh": (lambda: ops.tanh(a, out=out), xp.tanh(a)),
        "maximum": (lambda: ops.maximum(a, b, out=out), xp.maximum(a, b)),
        "clamp_min": (lambda: ops.clamp_min(a, 0.0, out=out), xp.maximum(a, 0.0)),
        "greater": (lambda: ops.greater(a, 0.0, out=out), xp.astype(a > 0, a.dtype)),
        "greater_equal": (lambda: ops.greater_equal(a, 0.0, out=out), xp.astype(a >= 0, a.dtype)),
        "assign": (lambda: ops.assign(out, b), b),
        "copy": (lambda: ops.assign(out, ops.copy(a)), a),
        "take_rows": (lambda: ops.take_rows(a, rows, out=out), xp.take(a, rows, axis=0)),
    }
    for name, (run, expected) in cases.items():
        run()
        np.testing.assert_array_equal(to_numpy(out), to_numpy(expected), err_msg=name)
    ops.greater(a, 0.0, out=mask)
    filled = ops.copy(a)
    ops.fill_where(filled, mask, 1.0)
    np.testing.assert_array_equal(to_numpy(filled), to_numpy(xp.where(a > 0, 1.0, a)))
    scaled = ops.copy(a)
    ops.scale_where_not(scaled, mask, 0.1, out)
    np.testing.assert_array_equal(to_numpy(scaled), to_numpy(xp.where(a > 0, a, 0.1 * a)))
    sums = ops.empty((3, 1), a)
    ops.sum_columns(a, out=sums)
    np.testing.assert_array_equal(to_numpy(sums), to_numpy(xp.sum(a, axis=1, keepdims=True)))
    assert set(cases) | {"empty", "fill_where", "keep_where_positive", "scale_where_not", "sum_columns"} == DECLARED  # keep_where_positive: below


STEPS = (GenericStep, *FAST_STEPS)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relus_backward_in_place_is_the_generic_product_bit_for_bit(xp, to_xp, dtype):
    """``keep_where_positive`` (ReLU's backward step in place) gives ``a * (z > 0)`` to the bit:
    -0 for a negative ``a`` where ``z <= 0``, NaN for an infinite or NaN one, every special value
    of ``a`` against every one of ``z``, on contiguous and strided arrays."""
    special = [0.0, -0.0, 1.0, -1.0, 1e-310 if dtype == "float64" else 1e-40, np.inf, -np.inf, np.nan, np.finfo(dtype).max]
    a_host, z_host = (np.array(grid, dtype=dtype) for grid in np.meshgrid(special, special))
    a, z = to_xp(a_host, dtype), to_xp(z_host, dtype)
    ops = ops_module.ops_for(xp, a)
    if ops is None:
        pytest.skip(f"{backend_name(xp)} has no in-place operations here")
    with np.errstate(invalid="ignore"):  # inf * 0 is NaN, as in training (fit ignores the warning)
        expected = to_numpy(a * xp.astype(z > 0, a.dtype))
    for view in (lambda v: v, lambda v: v.T, lambda v: v[::2, 1::3]):
        kept, zs = ops.copy(view(a)), view(z)
        with np.errstate(invalid="ignore"):
            ops.keep_where_positive(kept, zs, Workspace(ops.empty(tuple(kept.shape), kept), ops.empty(tuple(kept.shape), kept, True)))
        np.testing.assert_array_equal(to_numpy(kept).view(f"u{a_host.itemsize}"), view(expected).view(f"u{a_host.itemsize}"))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numpys_outer_product_and_relus_clamp_in_place_are_numpys_own_bits(dtype):
    """NumPy's ``matmul`` of a column by a row (``dA^[L-1] = W^[L]^T dZ^[L]`` of one output unit,
    broadcast) and ``clamp_min`` (ReLU's forward, against an array of the value up to
    ``CONSTANT_BYTES``) give ``np.matmul``'s and ``np.maximum``'s bits: every special value against
    every one, a short batch's shape after a long one's, and an array past the limit."""
    special = np.array([0.0, -0.0, 1.0, -1.0, 1e-310 if dtype == "float64" else 1e-40, np.inf, -np.inf, np.nan, np.finfo(dtype).max], dtype=dtype)
    ops, bits = ops_module.NumpyOps(np), f"u{special.itemsize}"
    column, row = special[:, None], special[None, :]
    out = ops.empty((special.size, special.size), column)
    with np.errstate(invalid="ignore", over="ignore"):
        ops.matmul(column, row, out=out)
        np.testing.assert_array_equal(out.view(bits), np.matmul(column, row).view(bits))
    for shape in ((3, 27), (3, 5), (ops_module.CONSTANT_BYTES // special.itemsize + 9,)):
        a = np.resize(special, shape)
        for value in (0.0, -0.0, np.nan, 0.0):  # each value its own constant, -0.0 apart from 0.0
            clamped = ops.empty(a.shape, a)
            ops.clamp_min(a, value, out=clamped)
            np.testing.assert_array_equal(clamped.view(bits), np.maximum(a, value).view(bits))
    assert len(ops._constants) == 2 * 3  # (3, 27) and (3, 5), three values each: none past the limit
    with pytest.raises(ValueError, match="matmul"):  # a column times a matrix is no outer product
        ops.matmul(column, np.ones((2, 3), dtype=dtype), out=out)


# -- the compiled step: one compilation per shapes, kept across fits --------------------------------
@pytest.fixture
def jax_arrays():
    pytest.importorskip("jax")
    import jax

    jax.config.update("jax_enable_x64", True)
    return arraynet.asarray(X_FLOWER, "jax"), arraynet.asarray(Y_FLOWER, "jax")


def test_the_compiled_step_compiles_once_for_every_stretch_and_learning_rate_and_keeps_it(jax_arrays, caplog):
    from arraynet.steps import compiled

    X, Y = jax_arrays
    caplog.set_level(logging.DEBUG, logger="arraynet")
    model = arraynet.NeuralNetwork([2, 7, 1], hidden_activation="tanh", seed=0)
    one, many = compiled._compiled(model._kernel(), arraynet.backends.namespace_of(X))

    def sizes():
        return one._cache_size(), many._cache_size()

    before = sizes()
    history = model.fit(X, Y, learning_rate=0.5, num_iterations=250, record_every=100)  # stretches of 99 and 48
    assert history.step == "compiled" and history.iterations == [0, 100, 200, 249]
    assert sizes() == (before[0] + 1, before[1] + 1)  # one compilation each, whatever the stretch
    assert "compiled the loop of training steps in" in caplog.text
    caplog.clear()
    again = arraynet.NeuralNetwork([2, 7, 1], hidden_activation="tanh", seed=1)  # another model, same math
    again.fit(X, Y, learning_rate=0.05, num_iterations=333, record_every=7)  # other rate, other stretches
    assert sizes() == (before[0] + 1, before[1] + 1)
    assert "compiled" not in caplog.text


def test_the_compiled_step_keeps_fits_contract(jax_arrays):
    X, Y = jax_arrays
    stopped = arraynet.NeuralNetwork([2, 5, 1], seed=0).fit(
        X, Y, learning_rate=0.5, num_iterations=1000, record_every=50, callback=lambda i, cost, model: i == 150
    )
    assert stopped.step == "compiled" and stopped.stopped_early and stopped.iterations[-1] == 150
    assert stopped.iterations_run == 150
    model = arraynet.NeuralNetwork([2, 8, 1], hidden_activation="relu", seed=0)
    with pytest.raises(arraynet.DivergenceError, match=r"at iteration 10 ") as caught:
        model.fit(X * 1e3, Y, learning_rate=1e200, num_iterations=50, record_every=10)
    assert caught.value.history.step == "compiled"
    assert all(np.all(np.isfinite(to_numpy(value))) for value in model.get_parameters().values())


@pytest.mark.parametrize("step", STEPS, ids=lambda cls: cls.name)
def test_every_step_keeps_the_step_protocol(step):
    declared = {name: inspect.signature(getattr(Step, name)) for name in ("create", "cost", "update", "snapshot", "advance")}
    for name, signature in declared.items():
        assert list(inspect.signature(getattr(step, name)).parameters) == list(signature.parameters), name
    assert isinstance(step.name, str) and step.name
    assert len({cls.name for cls in STEPS}) == len(STEPS)


def test_a_model_whose_math_is_its_own_is_never_compiled_from_anothers(jax_arrays):
    """The compiled functions are pure functions of the key: a subclass that redefines its math,
    an activation whose settings cannot be a key, or math JAX cannot trace take the generic step."""
    X, Y = jax_arrays

    class Scaled(arraynet.NeuralNetwork):
        def __init__(self, scale, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.scale = scale

        def _forward(self, parameters, X, xp):
            return super()._forward(parameters, X * self.scale, xp)

    class Poly(Activation):
        def __init__(self, coefficients):
            self.coefficients = list(coefficients)  # a list: unhashable

        def forward(self, Z, xp):
            return self.coefficients[0] * Z + self.coefficients[1] * Z * Z

        def backward(self, dA, Z, A, xp):
            return dA * (self.coefficients[0] + 2 * self.coefficients[1] * Z)

    class Checked(arraynet.Tanh):
        def forward(self, Z, xp):
            if bool(xp.any(Z > 50)):  # a host-side decision: JAX cannot trace it
                raise ValueError("too large")
            return xp.tanh(Z)

    cases = [
        lambda: Scaled(3.0, [2, 5, 1], hidden_activation="tanh", seed=0),
        lambda: arraynet.NeuralNetwork([2, 5, 1], activations=[Poly([1.0, 0.1]), "sigmoid"], seed=0),
        lambda: arraynet.NeuralNetwork([2, 5, 1], activations=[Checked(), "sigmoid"], seed=0),
    ]
    for make in cases:
        fast, generic = make(), make()
        history = fast.fit(X, Y, learning_rate=0.5, num_iterations=30, record_every=10)
        expected = generic.fit(X, Y, learning_rate=0.5, num_iterations=30, record_every=10, fast_paths=False)
        assert history.step == "generic"
        assert history.costs == expected.costs
    assert Scaled(1.0, [2, 5, 1])._kernel().key is None
    assert arraynet.NeuralNetwork([2, 5, 1])._kernel().key == (arraynet.NeuralNetwork, (arraynet.ReLU(), arraynet.Sigmoid()))


def test_the_compiled_loop_runs_in_short_calls_so_ctrl_c_is_seen(jax_arrays, monkeypatch):
    from arraynet.steps import compiled

    X, Y = jax_arrays
    calls = []
    call = compiled._call
    monkeypatch.setattr(compiled, "_call", lambda function, what, *arguments: calls.append(arguments[-1]) or call(function, what, *arguments))
    monkeypatch.setattr(compiled, "_CHUNK", 0.01)
    arraynet.NeuralNetwork([2, 5, 1], seed=0).fit(X, Y, learning_rate=0.5, num_iterations=20001, record_every=20000)
    stretch = [n for n in calls if isinstance(n, int)]
    assert sum(stretch) == 19999 and len(stretch) > 2  # one stretch of 19,999, in several calls
