"""NeuralNetwork and LogisticRegression: training, prediction and parameters, on every backend."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import arraynet
from arraynet.backends import to_numpy

from .conftest import assert_same_place

X_FLOWER, Y_FLOWER = arraynet.load_flower()


def flower_network(**kwargs):
    return arraynet.NeuralNetwork([2, 4, 1], hidden_activation="tanh", init="small", seed=3, **kwargs)


def test_four_tanh_units_learn_the_flower_that_logistic_regression_cannot(xp, to_xp):
    """The course's planar example: a non-linear boundary needs hidden units."""
    X, Y = to_xp(X_FLOWER), to_xp(Y_FLOWER)
    network = flower_network()
    network.fit(X, Y, learning_rate=1.2, num_iterations=2000, record_every=1000)
    logistic = arraynet.LogisticRegression()
    logistic.fit(X, Y, learning_rate=0.1, num_iterations=500)
    assert network.accuracy(X, Y) >= 0.88
    assert logistic.accuracy(X, Y) < 0.60


@pytest.mark.parametrize(
    "make_model, learning_rate",
    [
        (lambda: arraynet.NeuralNetwork([2, 5, 3, 1], hidden_activation="relu", seed=0), 0.5),
        (lambda: arraynet.NeuralNetwork([2, 4, 4, 1], activations=["leaky_relu", "tanh", "sigmoid"], init="xavier", seed=1), 0.5),
        (lambda: arraynet.NeuralNetwork([2, 3, 1], hidden_activation="sigmoid", init="he", seed=2), 2.0),
        (lambda: arraynet.LogisticRegression(), 0.1),
    ],
    ids=["relu", "leaky_relu+tanh", "sigmoid", "logistic"],
)
def test_same_seed_trains_to_the_same_costs_on_every_backend(xp, to_xp, make_model, learning_rate):
    """float64: within 1e-10 relative of NumPy after 300 iterations."""
    reference = make_model().fit(X_FLOWER, Y_FLOWER, learning_rate=learning_rate, num_iterations=300, record_every=50)
    model = make_model()
    history = model.fit(to_xp(X_FLOWER), to_xp(Y_FLOWER), learning_rate=learning_rate, num_iterations=300, record_every=50)
    assert history.iterations == reference.iterations == [0, 50, 100, 150, 200, 250, 299]
    np.testing.assert_allclose(history.costs, reference.costs, rtol=1e-10)
    assert history.costs[-1] < history.costs[0]


def test_history_records_each_iterations_cost_before_its_update():
    """As the course: iterations 0, k, 2k, ... and the last, each the cost before that update."""
    model = flower_network()
    model.set_parameters(arraynet.initialize_parameters([2, 4, 1], "small", seed=3))
    parameters = model.get_parameters()
    history = model.fit(X_FLOWER, Y_FLOWER, learning_rate=1.2, num_iterations=25, record_every=10)
    assert history.iterations == [0, 10, 20, 24]
    assert all(type(cost) is float for cost in history.costs)

    activations = ["tanh", "sigmoid"]
    expected = []
    for i in range(25):  # the same training, step by step through the functional kernel
        AL, caches = arraynet.forward(parameters, X_FLOWER, activations)
        if i in history.iterations:
            expected.append(float(arraynet.compute_cost(AL, Y_FLOWER, ZL=caches[-1].Z)))
        parameters = arraynet.update(parameters, arraynet.backward(AL, Y_FLOWER, caches, activations), 1.2)
    np.testing.assert_allclose(history.costs, expected, rtol=1e-13)
    for key, value in model.get_parameters().items():
        np.testing.assert_allclose(value, parameters[key], rtol=1e-13)


def test_fit_starts_from_parameters_the_user_brings(xp, to_xp):
    """set_parameters takes any Array API library's arrays; fit starts from them."""
    model = arraynet.NeuralNetwork([2, 3, 1], seed=0)
    mine = arraynet.initialize_parameters([2, 3, 1], "xavier", seed=42)
    model.set_parameters({k: to_xp(v) for k, v in mine.items()})
    X, Y = to_xp(X_FLOWER), to_xp(Y_FLOWER)
    reference = arraynet.NeuralNetwork([2, 3, 1], init="xavier", seed=42)
    expected = reference.fit(X_FLOWER, Y_FLOWER, num_iterations=1).costs
    np.testing.assert_allclose(model.fit(X, Y, num_iterations=1).costs, expected, rtol=1e-14)


def test_a_second_fit_continues_training():
    model = flower_network()
    first = model.fit(X_FLOWER, Y_FLOWER, learning_rate=1.2, num_iterations=100)
    second = model.fit(X_FLOWER, Y_FLOWER, learning_rate=1.2, num_iterations=100)
    assert second.costs[0] < first.costs[0]


def test_zero_iterations_initialises_without_training():
    model = flower_network()
    history = model.fit(X_FLOWER, Y_FLOWER, num_iterations=0)
    assert history.iterations == [] and history.costs == []
    np.testing.assert_array_equal(model.get_parameters()["W1"], arraynet.initialize_parameters([2, 4, 1], "small", seed=3)["W1"])


@pytest.mark.parametrize("make_model", [flower_network, arraynet.LogisticRegression], ids=["network", "logistic"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_results_stay_in_the_datas_namespace_dtype_and_device(xp, to_xp, make_model, dtype):
    X, Y = to_xp(X_FLOWER, dtype=dtype), to_xp(Y_FLOWER, dtype=dtype)
    model = make_model()
    model.fit(X, Y, learning_rate=0.5, num_iterations=20)
    for value in model.get_parameters().values():
        assert_same_place(value, X)
    probabilities = model.predict_proba(X)
    labels = model.predict(X)
    assert_same_place(probabilities, X)
    assert_same_place(labels, X)
    assert tuple(labels.shape) == (1, X_FLOWER.shape[1])
    assert set(np.unique(to_numpy(labels))) <= {0.0, 1.0}
    np.testing.assert_array_equal(to_numpy(labels), to_numpy(probabilities) > 0.5)
    accuracy = model.accuracy(X, Y)
    assert type(accuracy) is float and accuracy == np.mean(to_numpy(labels) == Y_FLOWER)
    assert type(model.cost(X, Y)) is float


def test_logistic_regression_has_the_seeds_parameter_shapes(xp, to_xp):
    """w of shape (n_x, 1) and a scalar b [C1 2.2], zero-initialised."""
    model = arraynet.LogisticRegression()
    model.fit(to_xp(X_FLOWER), to_xp(Y_FLOWER), num_iterations=0)
    parameters = model.get_parameters()
    assert sorted(parameters) == ["b", "w"]
    assert tuple(parameters["w"].shape) == (2, 1) and tuple(parameters["b"].shape) == ()
    assert not np.any(to_numpy(parameters["w"]))


def test_logistic_regression_gradients_are_the_seeds_vectorized_formulas():
    """dw = (1/m) X dZ^T, db = (1/m) sum dZ, dZ = A - Y [C1 2.7]: one step from w = 0, b = 0."""
    model = arraynet.LogisticRegression()
    model.fit(X_FLOWER, Y_FLOWER, learning_rate=0.5, num_iterations=1)
    dZ = 0.5 - Y_FLOWER  # sigma(0) = 0.5
    m = X_FLOWER.shape[1]
    np.testing.assert_allclose(model.get_parameters()["w"], -0.5 * X_FLOWER @ dZ.T / m, rtol=1e-14)
    assert float(model.get_parameters()["b"]) == pytest.approx(-0.5 * dZ.sum() / m, rel=1e-14)


def test_a_trained_logistic_regression_moves_to_every_backend(xp, device):
    """NumPy's scalar b (0-d results are np.float64) moves like any array."""
    model = arraynet.LogisticRegression()
    model.fit(X_FLOWER, Y_FLOWER, learning_rate=0.1, num_iterations=5)
    expected = model.predict_proba(X_FLOWER)
    model.to(arraynet.backends.backend_name(xp), device=device)
    X = arraynet.asarray(X_FLOWER, arraynet.backends.backend_name(xp), device=device)
    np.testing.assert_allclose(to_numpy(model.predict_proba(X)), expected, rtol=1e-14)


def test_integer_and_bool_X_become_the_default_float(xp, to_xp):
    X = to_xp(np.array([[0, 1, 2, 3], [1, 0, 1, 0]]))
    Y = to_xp(np.array([[0, 1, 1, 1]]))
    model = arraynet.NeuralNetwork([2, 2, 1], seed=0)
    model.fit(X, Y, num_iterations=3)
    default = xp.__array_namespace_info__().default_dtypes()["real floating"]
    assert model.get_parameters()["W1"].dtype == default
    assert model.predict(xp.astype(X, xp.bool)).dtype == default


def test_divergence_stops_with_the_iteration_and_keeps_the_last_finite_parameters(xp, to_xp):
    X, Y = to_xp(X_FLOWER * 1e3), to_xp(Y_FLOWER)
    model = arraynet.NeuralNetwork([2, 8, 1], hidden_activation="relu", seed=0)
    model.fit(X, Y, num_iterations=0)
    with pytest.raises(arraynet.DivergenceError, match=r"the cost became (nan|inf) at iteration \d+") as error:
        model.fit(X, Y, learning_rate=1e200, num_iterations=50, record_every=1)
    assert error.value.iteration >= 1
    assert math.isfinite(model.cost(X, Y))
    for value in model.get_parameters().values():
        assert np.all(np.isfinite(to_numpy(value)))
    history = error.value.history  # the run up to the divergence, every recorded cost finite
    assert history.iterations == list(range(error.value.iteration))
    assert all(math.isfinite(cost) for cost in history.costs)
    assert history.costs[-1] == pytest.approx(model.cost(X, Y), rel=1e-12)  # the model holds the last recorded parameters
    assert history.iterations_run == error.value.iteration and history.seconds > 0
    assert history.backend == arraynet.backends.backend_name(xp)


def test_divergence_between_recorded_iterations_is_reported_where_it_was_found():
    """The cost is read (a device sync) only at recorded iterations: the error says so, and the
    model keeps the parameters of the last recorded iteration with a finite cost."""
    model = arraynet.NeuralNetwork([2, 8, 1], hidden_activation="relu", seed=0)
    with pytest.raises(arraynet.DivergenceError, match=r"checked at the recorded iterations, every record_every = 10; the last finite cost was at iteration 0\)") as error:
        model.fit(X_FLOWER * 1e3, Y_FLOWER, learning_rate=1e200, num_iterations=50, record_every=10)
    assert error.value.iteration == 10
    np.testing.assert_array_equal(model.get_parameters()["W1"], arraynet.initialize_parameters([2, 8, 1], seed=0)["W1"])
    history = error.value.history
    assert history.iterations == [0] and history.iterations_run == 10 and history.seconds > 0


def test_parameters_that_overflow_in_the_last_update_raise_with_the_history_so_far():
    """The last update is checked too: its cost is never computed, so the parameters are."""
    model = arraynet.LogisticRegression()
    with pytest.raises(arraynet.DivergenceError, match="the parameters became NaN or Inf in the update of iteration 0") as error:
        model.fit(X_FLOWER * 1e3, Y_FLOWER, learning_rate=1e308, num_iterations=1)
    assert error.value.iteration == 0
    history = error.value.history
    assert history.iterations == [0] and history.costs == [pytest.approx(math.log(2.0), rel=1e-14)]
    assert history.iterations_run == 1 and history.seconds > 0
    assert not np.any(model.get_parameters()["w"])  # the zeros of iteration 0


def test_a_cost_that_is_not_finite_before_any_update_says_so():
    model = arraynet.NeuralNetwork([2, 8, 1], hidden_activation="relu", seed=0)
    with pytest.raises(arraynet.DivergenceError, match=r"the cost is inf at iteration 0, before any update") as error:
        model.fit(X_FLOWER * 1e307, Y_FLOWER, num_iterations=5, record_every=1)
    assert error.value.iteration == 0 and error.value.history.iterations == []


def test_a_diverging_fit_raises_divergence_error_alone_and_the_callback_keeps_the_users_errstate():
    """Overflow on the way to a NaN cost is what DivergenceError reports: no NumPy RuntimeWarning
    comes before it (this suite turns them into errors, as ``python -W error`` does)."""
    seen = []

    def callback(i, cost, model):
        seen.append(np.geterr())

    with np.errstate(over="raise", invalid="warn"):
        with pytest.raises(arraynet.DivergenceError):
            arraynet.NeuralNetwork([2, 8, 1], seed=0).fit(
                X_FLOWER * 1e3, Y_FLOWER, learning_rate=1e200, num_iterations=50, record_every=1, callback=callback
            )
        assert np.geterr()["over"] == "raise"
    assert seen and all(state["over"] == "raise" and state["invalid"] == "warn" for state in seen)


def test_a_divergence_error_pickles_with_its_iteration_and_history():
    """joblib (scikit-learn's n_jobs) and multiprocessing send exceptions between processes."""
    history = arraynet.History(iterations=[0, 10], costs=[0.69, 0.5], iterations_run=20)
    error = pickle.loads(pickle.dumps(arraynet.DivergenceError("the cost became nan at iteration 20", 20, history)))
    assert type(error) is arraynet.DivergenceError and str(error) == "the cost became nan at iteration 20"
    assert error.iteration == 20 and error.history == history


@pytest.mark.parametrize("make_model", [flower_network, arraynet.LogisticRegression], ids=["network", "logistic"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_decision_function_is_the_output_layers_Z(xp, to_xp, make_model, dtype):
    """``Z^[L]`` [C1 3.1]: shape (1, m) in X's namespace, dtype and device; ``A^[L] = sigma(Z^[L])``."""
    model = make_model()
    model.fit(X_FLOWER, Y_FLOWER, learning_rate=0.5, num_iterations=20)
    parameters = model.get_parameters()
    if "w" in parameters:  # w^T X + b [C1 2.2]
        expected = parameters["w"].T @ X_FLOWER + parameters["b"]
    else:
        expected = arraynet.forward(parameters, X_FLOWER, ["tanh", "sigmoid"])[1][-1].Z
    model.set_parameters({key: to_xp(value, dtype=dtype) for key, value in parameters.items()})
    X = to_xp(X_FLOWER, dtype=dtype)
    ZL = model.decision_function(X)
    assert_same_place(ZL, X)
    assert tuple(ZL.shape) == (1, X_FLOWER.shape[1])
    tolerance = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(to_numpy(ZL), expected, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(to_numpy(model.predict_proba(X)), 1.0 / (1.0 + np.exp(-expected)), rtol=tolerance)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predict_labels_agree_with_the_sign_of_z_even_where_sigma_rounds_to_one_half(xp, to_xp, dtype):
    """sigma(z) > 0.5 exactly when z > 0; in floating point sigma(1e-17) rounds to 0.5."""
    model = arraynet.LogisticRegression()
    model.set_parameters({"w": to_xp(np.ones((1, 1)), dtype=dtype), "b": to_xp(np.zeros(()), dtype=dtype)})
    X = to_xp(np.array([[-1e-17, 0.0, 1e-17, 1.0]]), dtype=dtype)
    assert to_numpy(model.predict_proba(X))[0, 2] == 0.5
    np.testing.assert_array_equal(to_numpy(model.predict(X)), [[0.0, 0.0, 1.0, 1.0]])
    assert model.predict(X).dtype == X.dtype
    assert model.accuracy(X, to_xp(np.array([[0.0, 0.0, 1.0, 1.0]]), dtype=dtype)) == 1.0


def test_predict_before_fit_says_what_to_do():
    with pytest.raises(arraynet.NotFittedError, match="has no parameters yet: call fit or set_parameters first"):
        flower_network().predict(X_FLOWER)


def test_parameters_that_become_infinite_with_a_finite_cost_end_the_fit_and_the_model_keeps_finite_ones():
    """A ReLU unit whose weights overflow to -inf is dead and the cost stays finite; the recorded
    iterations check the parameters too, so neither the callback nor the model ever holds them."""
    seen = []

    def stop_at_3(i, cost, model):
        seen.append(all(np.all(np.isfinite(value)) for value in model.get_parameters().values()))
        return i == 3

    model = arraynet.NeuralNetwork([2, 3, 1], seed=25)
    with pytest.raises(arraynet.DivergenceError, match=r"the parameter W1 became NaN or Inf \(with the cost finite, .*\) at iteration 1") as error:
        model.fit(np.ones((2, 1)), np.zeros((1, 1)), learning_rate=1.7e308, num_iterations=10, record_every=1, callback=stop_at_3)
    assert error.value.iteration == 1 and error.value.history.iterations == [0]
    assert seen == [True]
    for value in model.get_parameters().values():
        assert np.all(np.isfinite(value))


def test_keyboard_interrupt_goes_through_fit_and_the_model_keeps_the_last_recorded_parameters(xp, to_xp):
    X, Y = to_xp(X_FLOWER), to_xp(Y_FLOWER)
    at = {}

    def interrupt(i, cost, model):
        if i == 20:
            at.update(parameters=model.get_parameters(), cost=cost)
            raise KeyboardInterrupt

    model = arraynet.NeuralNetwork([2, 4, 1], hidden_activation="tanh", seed=3)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y, learning_rate=1.2, num_iterations=100, record_every=10, callback=interrupt)
    held = model.get_parameters()
    assert all(held[key] is value for key, value in at["parameters"].items())  # those of iteration 20
    assert model.cost(X, Y) == at["cost"]


def test_features_so_large_that_the_network_overflows_are_an_error_not_nan_probabilities(xp, to_xp):
    model = arraynet.NeuralNetwork([2, 8, 8, 1], seed=0)
    model.fit(to_xp(X_FLOWER), to_xp(Y_FLOWER), num_iterations=10)
    X = np.full((2, 3), 1e308)
    X[:, 0] = 1.0
    for call in (model.predict_proba, model.predict, model.decision_function):
        with pytest.raises(ValueError, match=r"the model's output is NaN for 2 of the 3 examples of X: .*\|X\| up to 1e\+308.*scale the features"):
            call(to_xp(X))
    probabilities = to_numpy(model.predict_proba(to_xp(X[:, :1])))
    assert 0.0 <= probabilities.min() <= probabilities.max() <= 1.0


def test_standardize_trains_on_each_features_z_score_learned_on_the_first_fit(xp, to_xp):
    X = np.vstack([X_FLOWER[0] * 1e3 + 5, X_FLOWER[1] * 1e-3])
    mean, std = X.mean(axis=1, keepdims=True), X.std(axis=1, keepdims=True)
    scaled = arraynet.NeuralNetwork([2, 4, 1], hidden_activation="tanh", seed=3, standardize=True)
    plain = arraynet.NeuralNetwork([2, 4, 1], hidden_activation="tanh", seed=3)
    history = scaled.fit(to_xp(X), to_xp(Y_FLOWER), learning_rate=1.2, num_iterations=300)
    expected = plain.fit(to_xp((X - mean) / std), to_xp(Y_FLOWER), learning_rate=1.2, num_iterations=300)
    np.testing.assert_allclose(history.costs, expected.costs, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(scaled.predict_proba(to_xp(X))), to_numpy(plain.predict_proba(to_xp((X - mean) / std))), rtol=1e-12)
    assert scaled.accuracy(to_xp(X), to_xp(Y_FLOWER)) > 0.85
    again = scaled.fit(to_xp(X[:, :200] * 10), to_xp(Y_FLOWER[:, :200]), num_iterations=1)  # the first fit's scaling stays
    assert again.iterations == [0]
    np.testing.assert_allclose(to_numpy(scaled._scaling[0]), mean, rtol=1e-12)
    assert "standardize=True" in repr(scaled) and "standardize" not in repr(plain)
    with pytest.raises(TypeError, match="standardize must be True or False; got 'yes'"):
        arraynet.LogisticRegression(standardize="yes")


def test_a_constant_feature_is_left_centred_not_divided_by_zero():
    X = np.vstack([X_FLOWER[0], np.full(X_FLOWER.shape[1], 7.0)])
    model = arraynet.LogisticRegression(standardize=True)
    model.fit(X, Y_FLOWER, num_iterations=20)
    assert np.all(np.isfinite(model.predict_proba(X)))
    np.testing.assert_array_equal(model._scaling[1][1], [1.0])


def test_standardize_survives_huge_features_in_float32():
    X = np.vstack([X_FLOWER[0] * 1e20, X_FLOWER[1]]).astype(np.float32)
    model = arraynet.NeuralNetwork([2, 4, 1], hidden_activation="tanh", seed=3, standardize=True)
    model.fit(X, Y_FLOWER.astype(np.float32), learning_rate=1.2, num_iterations=500)
    reference = arraynet.NeuralNetwork([2, 4, 1], hidden_activation="tanh", seed=3, standardize=True)
    reference.fit(X.astype(np.float64), Y_FLOWER, learning_rate=1.2, num_iterations=500)
    assert model.accuracy(X, Y_FLOWER.astype(np.float32)) == pytest.approx(reference.accuracy(X.astype(np.float64), Y_FLOWER), abs=0.02)


def test_set_parameters_keeps_a_learned_standardization_so_no_prediction_changes():
    """set_parameters(get_parameters()) on a standardizing model: the parameters are for its
    standardized input (dropping the scaling took a model from 0.986 to 0.373 accuracy, silently)."""
    X = np.vstack([X_FLOWER[0] * 1e3 + 50, X_FLOWER[1]])
    model = arraynet.NeuralNetwork([2, 8, 1], hidden_activation="tanh", seed=1, standardize=True)
    model.fit(X, Y_FLOWER, learning_rate=1.0, num_iterations=300)
    before = model.predict_proba(X)
    model.set_parameters(model.get_parameters())
    np.testing.assert_array_equal(model.predict_proba(X), before)
    trained_elsewhere = arraynet.NeuralNetwork([2, 8, 1], hidden_activation="tanh", seed=1, standardize=True)
    trained_elsewhere.fit(X, Y_FLOWER, learning_rate=1.0, num_iterations=300)
    fresh = arraynet.NeuralNetwork([2, 8, 1], hidden_activation="tanh", seed=1)  # parameters for raw input
    fresh.set_parameters(trained_elsewhere.get_parameters())
    assert fresh._scaling is None


def test_the_cost_of_infinite_logits_is_zero_or_infinite_not_nan():
    model = arraynet.LogisticRegression()
    model.set_parameters({"w": np.array([[1.0], [1.0]]), "b": np.array(0.0)})
    X = np.full((2, 1), 1e308)
    assert model.cost(X, np.ones((1, 1))) == 0.0
    assert model.cost(X, np.zeros((1, 1))) == math.inf


def test_a_run_that_records_every_one_of_many_iterations_starts_at_once():
    stopped = arraynet.LogisticRegression().fit(
        X_FLOWER, Y_FLOWER, num_iterations=10**12, record_every=1, callback=lambda i, cost, model: i == 3
    )
    assert stopped.iterations == [0, 1, 2, 3]
