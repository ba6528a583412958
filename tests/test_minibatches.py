"""Mini-batch training [C2 1.1] in ``fit``: the course's partition, shuffles drawn from the seed (or
given), the epoch's cost, the optimizers and decay over epochs, counts that carry across fits,
the same numbers on every backend, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import arraynet
from arraynet.backends import to_numpy
from arraynet.kernel.minibatches import partition

from .conftest import backend_cases

X_FLOWER, Y_FLOWER = arraynet.load_flower()


def network(seed=3):
    return arraynet.NeuralNetwork([2, 5, 3, 1], hidden_activation="tanh", seed=seed)


def by_hand(X, Y, orders, batch_size, optimizer, learning_rates, seed=3):
    """The course's mini-batch loop written out with the public functional API, in NumPy: each epoch
    its permutation, its batches, forward, cost, backward and the optimizer's update. Returns the
    parameters and each epoch's cost (batch costs weighted by batch sizes, over m)."""
    model = network(seed)
    parameters = arraynet.initialize_parameters(model.layer_dims, "he", seed)
    state = optimizer.init(parameters)
    activations = model.activations
    m, t, costs = X.shape[1], 0, []
    for order, alpha in zip(orders, learning_rates):
        X_s, Y_s = (X, Y) if order is None else (X[:, order], Y[:, order])
        total = 0.0
        for start, stop in partition(m, batch_size):
            AL, caches = arraynet.forward(parameters, X_s[:, start:stop], activations)
            total += float(arraynet.compute_cost(AL, Y_s[:, start:stop])) * (stop - start)
            t += 1
            parameters, state = optimizer.update(parameters, arraynet.backward(AL, Y_s[:, start:stop], caches, activations), state, alpha, t)
        costs.append(total / m)
    return parameters, costs


def test_the_partition_is_floor_m_over_b_batches_then_the_rest():
    assert partition(10, 3) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert partition(9, 3) == [(0, 3), (3, 6), (6, 9)]
    assert partition(5, 5) == partition(5, 7) == [(0, 5)]
    assert partition(3, 1) == [(0, 1), (1, 2), (2, 3)]


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
def test_an_epoch_is_the_course_loop_over_shuffled_batches(optimizer):
    """The seeded permutations, the short last batch, the epoch's weighted cost and the updates
    counted across epochs (Adam's t) are the course's loop, written out by hand."""
    model = network()
    history = model.fit(X_FLOWER, Y_FLOWER, 0.05, optimizer=optimizer, batch_size=64, epochs=3, fast_paths=False)
    orders = [np.random.default_rng([3, epoch]).permutation(400) for epoch in range(3)]
    expected, costs = by_hand(X_FLOWER, Y_FLOWER, orders, 64, arraynet.kernel.optimizers.get_optimizer(optimizer), [0.05] * 3)
    assert history.unit == "epoch" and history.epochs == [0, 1, 2] and history.iterations_run == 3
    assert history.updates == 3 * 7  # 6 batches of 64 and one of 16
    np.testing.assert_allclose(history.costs, costs, rtol=1e-12)
    for key, value in model.get_parameters().items():
        np.testing.assert_allclose(value, expected[key], rtol=1e-12, atol=1e-15)


def test_a_callable_shuffle_reproduces_the_course_assignments_permutations():
    """The assignment draws np.random.seed(10 + 1 + epoch); np.random.permutation(m)."""

    def course(epoch):
        np.random.seed(11 + epoch)
        return np.random.permutation(400)

    model = network()
    history = model.fit(X_FLOWER, Y_FLOWER, 0.1, optimizer="momentum", batch_size=100, epochs=2, shuffle=course, fast_paths=False)
    expected, costs = by_hand(X_FLOWER, Y_FLOWER, [course(0), course(1)], 100, arraynet.Momentum(), [0.1, 0.1])
    np.testing.assert_allclose(history.costs, costs, rtol=1e-12)
    np.testing.assert_allclose(model.get_parameters()["W2"], expected["W2"], rtol=1e-12)


def test_shuffle_false_keeps_the_examples_in_order_and_decay_lowers_the_rate_each_epoch():
    model = network()
    history = model.fit(X_FLOWER, Y_FLOWER, 0.2, batch_size=128, epochs=4, shuffle=False, decay=1.0, fast_paths=False)
    expected, costs = by_hand(X_FLOWER, Y_FLOWER, [None] * 4, 128, arraynet.GradientDescent(), [0.2 / (1 + e) for e in range(4)])
    np.testing.assert_allclose(history.costs, costs, rtol=1e-12)
    np.testing.assert_allclose(model.get_parameters()["W1"], expected["W1"], rtol=1e-12)


def test_the_same_seed_gives_the_same_training_another_seed_other_batches():
    first, again = network(), network()
    for model in (first, again):
        model.fit(X_FLOWER, Y_FLOWER, 0.01, optimizer="adam", batch_size=32, epochs=2)
    np.testing.assert_array_equal(first.get_parameters()["W1"], again.get_parameters()["W1"])
    different = network(seed=4)
    different.fit(X_FLOWER, Y_FLOWER, 0.01, optimizer="adam", batch_size=32, epochs=2)
    assert not np.array_equal(first.get_parameters()["W1"], different.get_parameters()["W1"])


def test_full_batch_gradient_descent_by_batch_size_m_equals_todays_batch_gradient_descent():
    by_iterations, by_epochs = network(), network()
    by_iterations.fit(X_FLOWER, Y_FLOWER, 0.5, num_iterations=20, fast_paths=False)
    history = by_epochs.fit(X_FLOWER, Y_FLOWER, 0.5, batch_size=400, epochs=20, fast_paths=False)
    assert history.updates == 20
    for key, value in by_iterations.get_parameters().items():
        np.testing.assert_array_equal(by_epochs.get_parameters()[key], value)


def test_adam_without_a_batch_size_is_full_batch_adam_by_num_iterations():
    model = network()
    history = model.fit(X_FLOWER, Y_FLOWER, 0.01, num_iterations=30, optimizer="adam", fast_paths=False)
    assert history.unit == "epoch" and history.updates == 30 and history.iterations == [0, 29]
    expected, _ = by_hand(X_FLOWER, Y_FLOWER, [None] * 30, 400, arraynet.Adam(), [0.01] * 30)
    np.testing.assert_allclose(model.get_parameters()["W3"], expected["W3"], rtol=1e-12)


def test_two_fits_of_one_epoch_equal_one_fit_of_two_optimizer_state_and_t_included():
    once, twice = network(), network()
    once.fit(X_FLOWER, Y_FLOWER, 0.01, optimizer="adam", batch_size=50, epochs=2, decay=0.5, fast_paths=False)
    for _ in range(2):
        twice.fit(X_FLOWER, Y_FLOWER, 0.01, optimizer="adam", batch_size=50, epochs=1, decay=0.5, fast_paths=False)
    for key, value in once.get_parameters().items():
        np.testing.assert_array_equal(twice.get_parameters()[key], value)
    assert twice._updates == 16 and twice._epochs == 2


def test_another_optimizer_starts_a_new_state_and_set_parameters_starts_anew():
    model = network()
    model.fit(X_FLOWER, Y_FLOWER, 0.01, optimizer="adam", batch_size=100, epochs=1)
    model.fit(X_FLOWER, Y_FLOWER, 0.01, optimizer="momentum", batch_size=100, epochs=1)
    assert set(model._optimizer_state) == {"v"} and model._updates == 4
    model.set_parameters(model.get_parameters())
    assert model._optimizer_state is None and model._updates == 0 and model._epochs == 0


@pytest.mark.parametrize("backend_case", backend_cases(("float64",)), indirect=True)
@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_every_backend_trains_the_same_batches_to_numpys_numbers(optimizer, backend_case, to_xp):
    model, reference = network(), network()
    history = model.fit(to_xp(X_FLOWER), to_xp(Y_FLOWER), 0.02, optimizer=optimizer, batch_size=48, epochs=3)
    expected = reference.fit(X_FLOWER, Y_FLOWER, 0.02, optimizer=optimizer, batch_size=48, epochs=3, fast_paths=False)
    np.testing.assert_allclose(history.costs, expected.costs, rtol=1e-9)
    for key, value in model.get_parameters().items():
        assert type(value) is type(to_xp(X_FLOWER))
        np.testing.assert_allclose(to_numpy(value), reference.get_parameters()[key], rtol=1e-9, atol=1e-12)


def test_float32_training_keeps_float32():
    model = network()
    model.fit(X_FLOWER.astype(np.float32), Y_FLOWER.astype(np.float32), 0.01, optimizer="adam", batch_size=64, epochs=2)
    assert {value.dtype for value in model.get_parameters().values()} == {np.dtype(np.float32)}
    assert {value.dtype for average in model._optimizer_state.values() for value in average.values()} == {np.dtype(np.float32)}


def test_records_every_epoch_by_default_and_a_callback_stops_at_an_epoch():
    seen = []

    def callback(epoch, cost, model):
        seen.append((epoch, cost, model._epochs))
        return epoch == 2

    model = network()
    history = model.fit(X_FLOWER, Y_FLOWER, 0.01, optimizer="adam", batch_size=100, epochs=10, callback=callback)
    assert history.stopped_early and history.iterations_run == 3 and history.updates == 12
    assert [epoch for epoch, _, _ in seen] == [0, 1, 2] and [done for _, _, done in seen] == [1, 2, 3]
    assert model._epochs == 3


def test_a_new_model_that_diverges_in_its_first_epoch_keeps_its_starting_parameters():
    model = arraynet.NeuralNetwork([2, 5, 3, 1], seed=3)
    with pytest.raises(arraynet.DivergenceError, match=r"the model keeps its starting parameters"):
        model.fit(X_FLOWER * 1e100, Y_FLOWER, 1e300, optimizer="momentum", batch_size=50, epochs=5)
    expected = arraynet.initialize_parameters([2, 5, 3, 1], "he", 3)
    for key, value in model.get_parameters().items():
        np.testing.assert_array_equal(value, expected[key])
    assert (model.epochs, model.updates) == (0, 0)


def test_divergence_in_mini_batch_training_keeps_the_last_finite_parameters():
    model = arraynet.NeuralNetwork([2, 5, 3, 1], seed=3)
    model.fit(X_FLOWER, Y_FLOWER, 0.01, optimizer="momentum", batch_size=50, epochs=2)
    kept = model.get_parameters()
    with pytest.raises(arraynet.DivergenceError, match=r"the cost became nan in epoch 0 .*the model keeps its starting parameters\. Try a smaller learning_rate than 1e\+300") as raised:
        model.fit(X_FLOWER * 1e100, Y_FLOWER, 1e300, optimizer="momentum", batch_size=50, epochs=5)
    assert raised.value.history.iterations_run == 1 and raised.value.iteration == 0  # epoch 0 ran, and diverged
    for key, value in model.get_parameters().items():
        np.testing.assert_array_equal(value, kept[key])
    assert (model.epochs, model.updates, type(model.optimizer)) == (2, 16, arraynet.Momentum)  # its state too


def test_a_fit_that_diverges_at_once_leaves_a_trained_model_and_its_adam_state_as_they_were():
    model = arraynet.NeuralNetwork([2, 5, 3, 1], seed=3)
    model.fit(X_FLOWER, Y_FLOWER, 0.01, optimizer="adam", batch_size=50, epochs=3)
    state = {name: {key: value.copy() for key, value in average.items()} for name, average in model.optimizer_state.items()}
    with pytest.raises(arraynet.DivergenceError):
        model.fit(X_FLOWER * 1e100, Y_FLOWER, 1e300, optimizer="momentum", batch_size=50, epochs=2)
    assert (model.optimizer, model.epochs, model.updates) == (arraynet.Adam(), 3, 24)
    np.testing.assert_array_equal(model.optimizer_state["v"]["dW1"], state["v"]["dW1"])


def test_a_fit_of_no_epochs_gives_a_new_model_its_starting_parameters():
    model = network()
    history = model.fit(X_FLOWER, Y_FLOWER, 0.01, optimizer="adam", batch_size=50, epochs=0)
    assert history.iterations_run == 0 and (model.epochs, model.updates) == (0, 0)
    np.testing.assert_array_equal(model.get_parameters()["W1"], arraynet.initialize_parameters([2, 5, 3, 1], "he", 3)["W1"])


def test_updates_count_the_current_optimizers_state_and_epochs_every_pass():
    model = network()
    model.fit(X_FLOWER, Y_FLOWER, 0.01, optimizer="adam", batch_size=100, epochs=2)
    assert (model.epochs, model.updates) == (2, 8)
    model.fit(X_FLOWER, Y_FLOWER, 0.01, optimizer=arraynet.Adam(beta1=0.8), batch_size=100, epochs=1)  # a new state
    assert (model.epochs, model.updates) == (3, 4)
    model.fit(X_FLOWER, Y_FLOWER, 0.1, num_iterations=10)  # batch gradient descent: a new state, an epoch an iteration
    assert (model.epochs, model.updates) == (13, 10)
    model.fit(X_FLOWER, Y_FLOWER, 0.1, num_iterations=5)  # the same optimizer goes on
    assert (model.epochs, model.updates) == (18, 15)
    for value in model.get_parameters().values():
        assert np.all(np.isfinite(value))


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"batch_size": 0}, ValueError, r"batch_size must be None \(all m examples in one batch\) or a whole number of examples >= 1, e.g. 64; got 0"),
        ({"batch_size": 2.5}, ValueError, r"batch_size must be .*; got 2.5"),
        ({"batch_size": 10, "num_iterations": 5}, ValueError, r"num_iterations counts updates on all m examples; with batch_size=10 give epochs"),
        ({"epochs": 2, "num_iterations": 5}, ValueError, r"give num_iterations or epochs, not both"),
        ({"optimizer": "sgd"}, ValueError, r"optimizer must be one of 'gd', 'momentum', 'rmsprop', 'adam'"),
        ({"batch_size": 10, "shuffle": "yes"}, TypeError, r"shuffle must be True, False or a callable"),
        ({"batch_size": 10, "shuffle": lambda epoch: np.arange(399)}, ValueError, r"shuffle\(0\) must return a permutation of range\(m\) = range\(400\), each index once.*got shape \(399,\)"),
        ({"batch_size": 10, "shuffle": lambda epoch: np.zeros(400, dtype=int)}, ValueError, r"shuffle\(0\) must return a permutation"),
        ({"batch_size": 10, "decay": "fast"}, TypeError, r"decay must be None, a decay rate .*; got 'fast'"),
        ({"batch_size": 10, "decay": lambda alpha, epoch: -1.0}, ValueError, r"decay gave the learning rate -1.0 for epoch 0: learning_rate must be a finite number > 0"),
    ],
)
def test_bad_training_arguments_are_said(arguments, error, message):
    model = network()
    with pytest.raises(error, match=message):
        model.fit(X_FLOWER, Y_FLOWER, 0.01, **arguments)
    assert model._parameters is None


def test_a_batch_size_larger_than_m_is_one_batch():
    history = network().fit(X_FLOWER, Y_FLOWER, 0.01, batch_size=10_000, epochs=2)
    assert history.updates == 2
