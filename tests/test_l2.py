"""L2 regularization [C2 2.1], ``fit(..., l2=lambd)``: the cost gains ``lambd / (2 m) sum_l
||W^[l]||_F^2`` and each ``dW^[l]`` gains ``(lambd / m) W^[l]`` (``m`` the update's batch, ``b`` not
regularized). Against the formulas written out by hand with NumPy, by iterations and by mini-batch
epochs; ``l2=0`` is no regularization bit for bit on every step; every step gives the generic
kernel's numbers with it (bit for bit for the buffered steps, to a stated tolerance for the compiled
and Dask ones); one compilation for every lambda; gradient checking with the term; larger lambdas,
smaller weights; bad values named."""

from __future__ import annotations

import math

import numpy as np
import pytest

import arraynet
from arraynet.backends import backend_name, namespace_of, to_numpy

from .conftest import TARGETS, backend_cases

X_FLOWER, Y_FLOWER = arraynet.load_flower()  # m = 400: batches of 64 leave a short last one of 16
ACTIVATIONS = ["tanh", "relu", "sigmoid"]
LAYER_DIMS = [2, 4, 3, 1]
BUFFERED_TARGETS = tuple(target for target in TARGETS if target[0] in ("numpy", "torch"))
JAX_TARGETS = tuple(target for target in TARGETS if target[0] == "jax")
# the compiled steps against the generic one, as tests/test_steps.py and test_epoch_compiled.py
# state them: XLA fuses and reorders the operations
COMPILED_RTOL = {"float64": 1e-9, "float32": 1e-4}
DASK_RTOL = 1e-12  # float64: sums over m added chunk by chunk, in another order


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def network(seed=1, hidden="tanh", layer_dims=LAYER_DIMS):
    return arraynet.NeuralNetwork(layer_dims, hidden_activation=hidden, seed=seed)


def initial(layer_dims=LAYER_DIMS, seed=1):
    """The parameters ``network(seed)`` starts from, as NumPy arrays."""
    return arraynet.initialize_parameters(layer_dims, "he", seed)


def host(array):
    return np.array(to_numpy(array), dtype=np.float64)


def squares(parameters):
    """sum_l ||W^[l]||_F^2 (or ||w||^2), by hand."""
    return sum(float(np.sum(host(value) ** 2)) for key, value in parameters.items() if key[0] in "Ww")


def assert_parameters(got, expected, rtol):
    assert sorted(got) == sorted(expected)  # an optimizer's averages come in backpropagation's order
    for key in expected:
        if rtol == 0.0:
            assert type(got[key]) is type(expected[key]) and got[key].dtype == expected[key].dtype, key
            np.testing.assert_array_equal(to_numpy(got[key]), to_numpy(expected[key]), err_msg=key)
        else:
            np.testing.assert_allclose(host(got[key]), host(expected[key]), rtol=rtol, atol=rtol * 1e-2, err_msg=key)


# -- the formulas by hand ---------------------------------------------------------------------------
def regularized(parameters, X, Y, lambd, activations):
    """The course's regularized cost and gradients of a network on (X, Y), by hand [C2 2.1]."""
    m = X.shape[1]
    AL, caches = arraynet.forward(parameters, X, activations)
    cost = float(arraynet.compute_cost(AL, Y, caches[-1].Z)) + lambd / (2 * m) * squares(parameters)
    grads = arraynet.backward(AL, Y, caches, activations)
    grads = {key: grad + (lambd / m) * parameters[key[1:]] if key.startswith("dW") else grad for key, grad in grads.items()}
    return cost, grads


@pytest.mark.parametrize("fast_paths", [False, True], ids=["generic", "fast"])
def test_batch_gradient_descent_is_the_formulas_by_hand(fast_paths):
    lambd, learning_rate, activations = 0.7, 0.5, ["tanh", "tanh", "sigmoid"]
    model = network()
    history = model.fit(X_FLOWER, Y_FLOWER, learning_rate, num_iterations=6, record_every=1, l2=lambd, fast_paths=fast_paths)
    parameters = initial()
    costs = []
    for _ in range(6):
        cost, grads = regularized(parameters, X_FLOWER, Y_FLOWER, lambd, activations)
        costs.append(cost)
        parameters = arraynet.update(parameters, grads, learning_rate)
    assert history.step == ("buffered" if fast_paths else "generic")
    np.testing.assert_allclose(history.costs, costs, rtol=1e-13)
    assert_parameters(model.get_parameters(), parameters, 1e-12)
    # the term is there: the cross-entropy alone is lower by it at iteration 0
    start = initial()
    assert history.costs[0] - network_cost(start) == pytest.approx(lambd / 800 * squares(start), rel=1e-12)


def network_cost(parameters):
    model = network()
    model.set_parameters(parameters)
    return model.cost(X_FLOWER, Y_FLOWER)


def test_logistic_regression_regularizes_w_and_not_b_by_hand():
    lambd, learning_rate = 3.0, 0.2
    X, Y = X_FLOWER, Y_FLOWER
    m = X.shape[1]
    model = arraynet.LogisticRegression(init="he", seed=4)
    history = model.fit(X, Y, learning_rate, num_iterations=5, record_every=1, l2=lambd)
    w, b = initial([2, 1], seed=4)["W1"].reshape(2, 1), 0.0
    costs = []
    for _ in range(5):
        Z = w.T @ X + b
        A = 1 / (1 + np.exp(-Z))
        costs.append(float(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))) + lambd / (2 * m) * float(np.sum(w * w)))
        dw = X @ (A - Y).T / m + (lambd / m) * w
        db = float(np.mean(A - Y))
        w, b = w - learning_rate * dw, b - learning_rate * db
    np.testing.assert_allclose(history.costs, costs, rtol=1e-12)
    np.testing.assert_allclose(model.get_parameters()["w"], w, rtol=1e-12)
    np.testing.assert_allclose(model.get_parameters()["b"], b, rtol=1e-12)


@pytest.mark.parametrize("fast_paths", [False, True], ids=["generic", "fast"])
def test_mini_batch_epochs_are_the_formulas_by_hand_over_each_batchs_examples(fast_paths):
    """m in the term is the batch's: 64, and 16 for the short last batch of each epoch."""
    lambd, learning_rate, epochs, b = 2.0, 0.1, 3, 64
    activations = ["tanh", "tanh", "sigmoid"]
    orders = {e: np.random.default_rng(100 + e).permutation(400) for e in range(epochs)}
    optimizer = arraynet.Momentum(beta=0.8)
    model = network()
    history = model.fit(
        X_FLOWER, Y_FLOWER, learning_rate, optimizer=optimizer, batch_size=b, epochs=epochs, shuffle=orders.__getitem__,
        l2=lambd, fast_paths=fast_paths,
    )
    parameters = initial()
    state, t, costs = optimizer.init(parameters), 0, []
    for e in range(epochs):
        total = 0.0
        for start in range(0, 400, b):
            index = orders[e][start : start + b]
            cost, grads = regularized(parameters, X_FLOWER[:, index], Y_FLOWER[:, index], lambd, activations)
            total += cost * index.size
            t += 1
            parameters, state = optimizer.update(parameters, grads, state, learning_rate, t)
        costs.append(total / 400)
    assert history.step == ("buffered" if fast_paths else "generic") and history.updates == 7 * epochs
    np.testing.assert_allclose(history.costs, costs, rtol=1e-12)
    assert_parameters(model.get_parameters(), parameters, 1e-11)
    assert_parameters(model.optimizer_state["v"], state["v"], 1e-11)


# -- l2=0 is no regularization, bit for bit, on every step ------------------------------------------
def fits(make, X, Y, **training):
    """Two models trained alike, one with l2=0.0 given: their histories and models."""
    plain, zero = make(), make()
    return plain.fit(X, Y, **training), zero.fit(X, Y, l2=0.0, **training), plain, zero


def assert_same_training(plain_history, zero_history, plain, zero):
    assert plain_history.step == zero_history.step
    np.testing.assert_array_equal(plain_history.costs, zero_history.costs)
    assert_parameters(zero.get_parameters(), plain.get_parameters(), 0.0)


ITERATIONS = {"learning_rate": 0.5, "num_iterations": 30, "record_every": 10}
EPOCHS = {"learning_rate": 0.05, "optimizer": "adam", "batch_size": 64, "epochs": 3}


@pytest.mark.parametrize("backend_case", backend_cases(("float64", "float32")), indirect=True)
@pytest.mark.parametrize("training", [ITERATIONS, EPOCHS], ids=["iterations", "epochs"])
@pytest.mark.parametrize("fast_paths", [False, True], ids=["generic", "fast"])
def test_l2_zero_is_no_regularization_bit_for_bit_on_every_step(fast_paths, training, backend_case, to_xp):
    dtype = backend_case.case.dtype
    X, Y = to_xp(X_FLOWER, dtype), to_xp(Y_FLOWER, dtype)
    plain_history, zero_history, plain, zero = fits(network, X, Y, fast_paths=fast_paths, **training)
    assert_same_training(plain_history, zero_history, plain, zero)
    logistic = fits(lambda: arraynet.LogisticRegression(seed=3), X, Y, fast_paths=fast_paths, **training)  # seeded shuffles
    assert_same_training(*logistic)


@pytest.mark.parametrize("training", [ITERATIONS, {**EPOCHS, "batch_size": 50, "shuffle": False}], ids=["iterations", "epochs"])
def test_l2_zero_is_no_regularization_bit_for_bit_on_dask(training):
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    with dask.config.set(scheduler="synchronous"):
        X, Y = da.from_array(X_FLOWER, chunks=(2, 100)), da.from_array(Y_FLOWER, chunks=(1, 100))
        results = fits(network, X, Y, **training)
    assert results[0].step == "dask"
    assert_same_training(*results)


# -- every step gives the generic kernel's numbers with the term --------------------------------------
def regularized_fits(make, X, Y, lambd, **training):
    fast, generic = make(), make()
    return (
        fast.fit(X, Y, l2=lambd, **training),
        generic.fit(X, Y, l2=lambd, fast_paths=False, **training),
        fast,
        generic,
    )


def assert_as_generic(fast_history, generic_history, fast, generic, rtol):
    assert generic_history.step == "generic"
    assert fast_history.iterations == generic_history.iterations
    if rtol == 0.0:
        np.testing.assert_array_equal(fast_history.costs, generic_history.costs)
    else:
        np.testing.assert_allclose(fast_history.costs, generic_history.costs, rtol=rtol)
    assert_parameters(fast.get_parameters(), generic.get_parameters(), rtol)


@pytest.mark.parametrize("backend_case", backend_cases(("float64", "float32"), BUFFERED_TARGETS), indirect=True)
@pytest.mark.parametrize("layer_dims", [[2, 1], [2, 5, 1], [2, 6, 4, 1]], ids=["L=1", "L=2", "L=3"])
@pytest.mark.parametrize("hidden", ["relu", "tanh"])
def test_the_buffered_steps_equal_the_generic_kernel_bit_for_bit(hidden, layer_dims, backend_case, to_xp):
    if backend_name(backend_case.xp) == "torch" and backend_case.device is not None and "cuda" in str(backend_case.device):
        pytest.skip("the buffered steps run on the CPU")
    if len(layer_dims) == 2 and hidden != "relu":
        pytest.skip("one layer is the sigmoid output alone")
    dtype = backend_case.case.dtype
    X, Y = to_xp(X_FLOWER, dtype), to_xp(Y_FLOWER, dtype)

    def make():
        return network(hidden=hidden, layer_dims=layer_dims)

    iterations = regularized_fits(make, X, Y, 1.5, learning_rate=0.5, num_iterations=40, record_every=10)
    assert iterations[0].step == "buffered"
    assert_as_generic(*iterations, rtol=0.0)
    for optimizer, shuffle in (("gd", True), ("adam", False), (arraynet.Momentum(beta=0.8), True)):
        epochs = regularized_fits(make, X, Y, 4.0, learning_rate=0.05, optimizer=optimizer, batch_size=64, epochs=3, shuffle=shuffle)
        assert epochs[0].step == "buffered"
        assert_as_generic(*epochs, rtol=0.0)
        fast_state, generic_state = epochs[2].optimizer_state, epochs[3].optimizer_state
        assert list(fast_state) == list(generic_state)
        for name in generic_state:
            assert_parameters(fast_state[name], generic_state[name], 0.0)


@pytest.mark.parametrize("backend_case", backend_cases(("float64", "float32"), JAX_TARGETS), indirect=True)
def test_the_compiled_steps_equal_the_generic_kernel_within_their_tolerances(backend_case, to_xp):
    dtype = backend_case.case.dtype
    rtol = COMPILED_RTOL[dtype]
    X, Y = to_xp(X_FLOWER, dtype), to_xp(Y_FLOWER, dtype)
    iterations = regularized_fits(network, X, Y, 1.5, learning_rate=0.5, num_iterations=60, record_every=10)
    assert iterations[0].step == "compiled"
    assert_as_generic(*iterations, rtol=rtol)
    for optimizer in ("gd", "adam"):
        epochs = regularized_fits(network, X, Y, 4.0, learning_rate=0.05, optimizer=optimizer, batch_size=64, epochs=4)
        assert epochs[0].step == "compiled"
        assert_as_generic(*epochs, rtol=rtol)
    logistic = regularized_fits(lambda: arraynet.LogisticRegression(seed=3), X, Y, 2.0, learning_rate=0.1, num_iterations=50, record_every=10)
    assert logistic[0].step == "compiled"
    assert_as_generic(*logistic, rtol=rtol)


def test_one_compilation_serves_every_lambda_and_none_changes_the_unregularized_functions(monkeypatch):
    pytest.importorskip("jax")
    import jax

    from arraynet.steps import compiled

    jax.config.update("jax_enable_x64", True)
    monkeypatch.setattr(compiled, "_COMPILED", {})
    monkeypatch.setattr(compiled, "_EPOCH_COMPILED", {})
    X, Y = arraynet.asarray(X_FLOWER, "jax"), arraynet.asarray(Y_FLOWER, "jax")
    for lambd in (0.1, 0.5, 3.0):
        assert network().fit(X, Y, 0.5, num_iterations=20, record_every=10, l2=lambd).step == "compiled"
        assert network().fit(X, Y, 0.05, optimizer="adam", batch_size=64, epochs=2, l2=lambd).step == "compiled"
    key = network()._kernel().key
    one, many = compiled._COMPILED[(key, compiled._L2)]
    assert list(compiled._COMPILED) == [(key, compiled._L2)]
    assert one._cache_size() == 1 and many._cache_size() == 1
    (run,) = compiled._EPOCH_COMPILED.values()
    assert run._cache_size() == 1
    network().fit(X, Y, 0.5, num_iterations=20, record_every=10)  # l2=0: the functions without the term
    network().fit(X, Y, 0.05, optimizer="adam", batch_size=64, epochs=2, l2=0.0)
    assert set(compiled._COMPILED) == {key, (key, compiled._L2)}
    assert set(compiled._EPOCH_COMPILED) == {(key, arraynet.Adam()), (key, arraynet.Adam(), compiled._L2)}


@pytest.fixture
def synchronous_dask():
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    with dask.config.set(scheduler="synchronous"):
        yield da


@pytest.mark.parametrize("chunks", [100, (37, 200, 63, 100)], ids=["even", "uneven"])
def test_the_dask_step_adds_the_term_once_per_iteration_not_per_chunk(chunks, synchronous_dask):
    da = synchronous_dask
    X, Y = da.from_array(X_FLOWER, chunks=(2, chunks)), da.from_array(Y_FLOWER, chunks=(1, chunks))
    for make, lambd in ((network, 5.0), (lambda: arraynet.LogisticRegression(init="he", seed=1), 20.0)):
        on_dask = make()
        dask_history = on_dask.fit(X, Y, 0.5, num_iterations=40, record_every=10, l2=lambd)
        assert dask_history.step == "dask"
        reference = make()
        expected = reference.fit(X_FLOWER, Y_FLOWER, 0.5, num_iterations=40, record_every=10, l2=lambd, fast_paths=False)
        np.testing.assert_allclose(dask_history.costs, expected.costs, rtol=DASK_RTOL)
        assert_parameters(on_dask.get_parameters(), reference.get_parameters(), DASK_RTOL)
        unregularized = make()
        unregularized.fit(X_FLOWER, Y_FLOWER, 0.5, num_iterations=40, record_every=10)
        assert squares(on_dask.get_parameters()) < squares(unregularized.get_parameters())


def test_the_dask_epoch_step_adds_it_per_batch_as_in_memory(synchronous_dask):
    """Chunks of a multiple of the batch size and no shuffle: the batches of the data in memory."""
    da = synchronous_dask
    X, Y = da.from_array(X_FLOWER, chunks=(2, 100)), da.from_array(Y_FLOWER, chunks=(1, 100))
    for optimizer in ("gd", "adam"):
        training = {"learning_rate": 0.05, "optimizer": optimizer, "batch_size": 50, "epochs": 3, "shuffle": False, "l2": 4.0}
        model = network()
        history = model.fit(X, Y, **training)
        reference = network()
        expected = reference.fit(X_FLOWER, Y_FLOWER, fast_paths=False, **training)
        assert history.step == "dask"
        np.testing.assert_allclose(history.costs, expected.costs, rtol=DASK_RTOL)
        assert_parameters(model.get_parameters(), reference.get_parameters(), DASK_RTOL)


# -- gradient checking, the weights, bad values -------------------------------------------------------
@pytest.mark.parametrize("backend_case", backend_cases(("float64",)), indirect=True)
@pytest.mark.parametrize("hidden", ["tanh", "sigmoid", "leaky_relu"])
def test_gradient_check_with_l2_agrees_with_centered_differences(hidden, backend_case, to_xp):
    X, Y = to_xp(X_FLOWER[:, ::20]), to_xp(Y_FLOWER[:, ::20])  # 20 examples
    model = arraynet.NeuralNetwork([2, 4, 3, 1], hidden_activation=hidden, seed=1)
    model.fit(X, Y, 0.1, num_iterations=5, l2=2.0)
    assert arraynet.gradient_check(model, X, Y, l2=2.0) < 1e-7
    assert arraynet.gradient_check(model, X, Y, l2=0.0) < 1e-7


def test_gradient_check_includes_the_term_in_the_cost_and_in_the_gradients():
    X, Y = X_FLOWER[:, ::20], Y_FLOWER[:, ::20]
    logistic = arraynet.LogisticRegression(init="he", seed=2)
    logistic.fit(X, Y, 0.1, num_iterations=3, l2=5.0)
    assert arraynet.gradient_check(logistic, X, Y, l2=5.0) < 1e-7

    plain = network(layer_dims=[2, 4, 1])
    plain.set_parameters(initial([2, 4, 1]))
    assert arraynet.gradient_check(plain, X, Y, l2=5.0) < 1e-7

    class TermInBackward(arraynet.NeuralNetwork):
        """Backpropagation that adds (5 / m) W itself: what the check sees of a term in the
        gradients that its cost lacks, or of the term added twice."""

        def _backward(self, AL, Y, caches, xp):
            grads = super()._backward(AL, Y, caches, xp)
            return {key: grad + (5.0 / AL.shape[1]) * self.get_parameters()[key[1:]] if key.startswith("dW") else grad
                    for key, grad in grads.items()}

    model = TermInBackward([2, 4, 1], hidden_activation="tanh", seed=1)
    model.set_parameters(initial([2, 4, 1]))
    assert arraynet.gradient_check(model, X, Y, l2=0.0) > 1e-3  # the cost has no term: the check says so
    assert arraynet.gradient_check(model, X, Y, l2=5.0) > 1e-3  # the term twice in the gradients


def test_a_larger_lambda_gives_smaller_weights_and_leaves_b_to_the_data():
    weights = []
    for lambd in (0.0, 1.0, 10.0, 100.0):
        model = network(hidden="tanh")
        model.fit(X_FLOWER, Y_FLOWER, 0.5, num_iterations=300, l2=lambd)
        weights.append(squares(model.get_parameters()))
    assert weights == sorted(weights, reverse=True) and len(set(weights)) == 4
    assert weights[-1] < 0.5 * weights[0]
    # b has no term: from weights of zero (whose term is zero) and biases of 0.3, one iteration moves
    # every parameter as it does without regularization
    zero_w = {key: np.zeros_like(value) if key[0] == "W" else np.full_like(value, 0.3) for key, value in initial().items()}
    with_l2, without = network(), network()
    with_l2.set_parameters(zero_w)
    without.set_parameters(zero_w)
    with_l2.fit(X_FLOWER, Y_FLOWER, 0.5, num_iterations=1, l2=50.0)
    without.fit(X_FLOWER, Y_FLOWER, 0.5, num_iterations=1)
    assert_parameters(with_l2.get_parameters(), without.get_parameters(), 0.0)


@pytest.mark.parametrize("bad", [-0.1, -1, math.nan, math.inf, "0.1", True, None, [0.1], 1j], ids=repr)
def test_a_bad_l2_is_one_error_naming_it(bad):
    message = r"l2 must be a finite number >= 0, the lambda of L2 regularization \(0: none\), e.g. 0.1; got "
    model = network()
    with pytest.raises(ValueError, match=message):
        model.fit(X_FLOWER, Y_FLOWER, 0.5, num_iterations=2, l2=bad)
    with pytest.raises(ValueError, match=message):
        model.fit(X_FLOWER, Y_FLOWER, 0.5, batch_size=64, epochs=1, l2=bad)
    with pytest.raises(arraynet.NotFittedError):
        model.get_parameters()  # nothing trained
    model.fit(X_FLOWER, Y_FLOWER, 0.5, num_iterations=1, l2=np.float32(0.5))  # a NumPy number is a number
    with pytest.raises(ValueError, match=message):
        arraynet.gradient_check(model, X_FLOWER[:, :10], Y_FLOWER[:, :10], l2=bad)


def test_the_kernel_returns_what_it_was_given_when_it_does_not_regularize():
    """l2 = 0 adds no operation: the cost and the gradients are the very objects given."""
    kernel = network()._kernel()
    assert kernel.l2 == 0.0
    parameters = initial()
    J, grads = np.float64(0.5), {f"d{key}": value for key, value in parameters.items()}
    xp = namespace_of(parameters["W1"])
    assert kernel.regularized_cost(J, parameters, 10, xp) is J
    assert kernel.regularized_gradients(grads, parameters, 10) is grads


def test_a_softmax_network_is_regularized_alike():
    """The term is the weights', whatever the output's cost: the buffered steps still equal the
    generic kernel bit for bit, and gradient checking agrees."""
    labels = (X_FLOWER[0] > 0).astype(np.int64) + (X_FLOWER[1] > 0)  # three classes
    Y = labels[None, :]

    def make():
        return arraynet.NeuralNetwork([2, 5, 3], hidden_activation="tanh", seed=2)

    for training in ({"learning_rate": 0.5, "num_iterations": 30, "record_every": 10},
                     {"learning_rate": 0.05, "optimizer": "adam", "batch_size": 64, "epochs": 3}):
        results = regularized_fits(make, X_FLOWER, Y, 3.0, **training)
        assert results[0].step == "buffered"
        assert_as_generic(*results, rtol=0.0)
    model = results[2]
    assert arraynet.gradient_check(model, X_FLOWER[:, ::20], Y[:, ::20], l2=3.0) < 1e-7
    unregularized = make()
    unregularized.fit(X_FLOWER, Y, **training)
    assert squares(model.get_parameters()) < squares(unregularized.get_parameters())
