"""Validation data and early stopping in fit: the validation cost and accuracy at each recorded
point, Keras's validation_split, EarlyStopping's patience, min_delta and restored best model."""

from __future__ import annotations

import numpy as np
import pytest

import arraynet

X_FLOWER, Y_FLOWER = arraynet.load_flower()
RNG = np.random.default_rng(0)
ORDER = RNG.permutation(400)
X, Y = X_FLOWER[:, ORDER], Y_FLOWER[:, ORDER]  # the flower's classes mixed, so that any split holds both


def network():
    return arraynet.NeuralNetwork([2, 8, 1], hidden_activation="tanh", seed=1)


def test_validation_data_gives_the_models_cost_and_accuracy_at_each_recorded_point():
    X_val, Y_val = X[:, 300:], Y[:, 300:]
    seen = []
    model = network()
    history = model.fit(
        X[:, :300], Y[:, :300], 0.5, num_iterations=50, record_every=10, validation_data=(X_val, Y_val),
        callback=lambda i, cost, model: seen.append((model.cost(X_val, Y_val), model.accuracy(X_val, Y_val))) and None,
    )
    assert len(history.val_costs) == len(history.val_accuracies) == len(history.costs) == 6
    np.testing.assert_allclose(history.val_costs, [cost for cost, _ in seen], rtol=1e-12)
    assert history.val_accuracies == [accuracy for _, accuracy in seen]


def test_validation_split_takes_the_last_fraction_before_shuffling():
    split, whole = network(), network()
    history = split.fit(X, Y, 0.05, optimizer="adam", batch_size=50, epochs=3, validation_split=0.25)
    reference = whole.fit(X[:, :300], Y[:, :300], 0.05, optimizer="adam", batch_size=50, epochs=3, validation_data=(X[:, 300:], Y[:, 300:]))
    assert history.costs == reference.costs and history.val_costs == reference.val_costs
    assert history.updates == 3 * 6


def test_the_scaling_is_learned_on_the_training_part_only():
    model = arraynet.NeuralNetwork([2, 4, 1], seed=0, standardize=True)
    model.fit(X * 5 + 3, Y, 0.1, num_iterations=2, validation_split=0.5)
    mean, _ = model._scaling
    np.testing.assert_allclose(mean[:, 0], (X[:, :200] * 5 + 3).mean(axis=1), rtol=1e-12)


def test_early_stopping_stops_after_patience_and_restores_the_best_model():
    early = arraynet.EarlyStopping(monitor="val_cost", patience=2)
    model = network()
    # a learning rate large enough that the validation cost climbs after its best
    history = model.fit(X[:, :200], Y[:, :200], 3.0, optimizer="momentum", batch_size=20, epochs=200,
                        validation_data=(X[:, 200:], Y[:, 200:]), early_stopping=early)
    assert history.stopped_early and early.stopped_at == history.epochs[-1]
    best = int(np.argmin(history.val_costs))
    assert early.best_at == history.epochs[best] and early.best == history.val_costs[best]
    assert len(history.val_costs) - 1 - best == 2  # two misses in a row
    assert model.cost(X[:, 200:], Y[:, 200:]) == pytest.approx(early.best, rel=1e-12)
    assert model.epochs == early.best_at + 1


def test_the_callback_at_the_stopping_point_sees_that_points_model_before_the_best_is_restored():
    early = arraynet.EarlyStopping(monitor="val_cost", patience=2)
    seen = []
    model = network()
    history = model.fit(X[:, :200], Y[:, :200], 3.0, optimizer="momentum", batch_size=20, epochs=200,
                        validation_data=(X[:, 200:], Y[:, 200:]), early_stopping=early,
                        callback=lambda e, cost, model: seen.append((model.epochs, model.cost(X[:, 200:], Y[:, 200:]))) and None)
    assert history.stopped_early and len(seen) == len(history.val_costs)
    assert [epochs for epochs, _ in seen] == [e + 1 for e in history.epochs]
    np.testing.assert_allclose([cost for _, cost in seen], history.val_costs, rtol=1e-12)  # the last one too
    assert model.epochs == early.best_at + 1 < seen[-1][0]


def test_early_stopping_on_accuracy_improves_upwards_and_min_delta_counts_small_gains_as_misses():
    early = arraynet.EarlyStopping(monitor="val_accuracy", patience=3, min_delta=0.5, restore_best=False)
    history = network().fit(X, Y, 0.5, num_iterations=100, record_every=10, validation_split=0.2, early_stopping=early)
    assert history.stopped_early and history.iterations == [0, 10, 20, 30] and early.best_at == 0


def test_early_stopping_on_the_training_cost_needs_no_validation_data():
    early = arraynet.EarlyStopping(monitor="cost", patience=0)
    history = network().fit(X, Y, 50.0, num_iterations=100, record_every=1, early_stopping=early)
    assert early.stopped_at is not None and history.stopped_early


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"validation_split": 1.0}, ValueError, r"validation_split must be a fraction of the examples in \(0, 1\), e.g. 0.2; got 1.0"),
        ({"validation_split": 0.999}, ValueError, r"validation_split=0.999 of m = 400 examples leaves 0 to train on and 400 to validate on; both need at least one"),
        ({"validation_split": 0.2, "validation_data": (X, Y)}, ValueError, r"give validation_data or validation_split, not both"),
        ({"validation_data": X}, TypeError, r"validation_data must be a pair \(X_val, Y_val\); got ndarray"),
        ({"validation_data": (X[:1], Y)}, ValueError, r"validation_data \(X_val, Y_val\): X must have n_x = 2 rows"),
        ({"validation_data": (X, Y * 2)}, ValueError, r"validation_data \(X_val, Y_val\): Y must hold binary labels"),
        ({"validation_data": (X.astype("float32"), Y)}, TypeError, r"validation_data \(X_val, Y_val\): X has dtype float32 but the training X is float64"),
        ({"early_stopping": arraynet.EarlyStopping()}, ValueError, r"early_stopping monitors 'val_cost', which needs validation data"),
        ({"early_stopping": "yes"}, TypeError, r"early_stopping must be an arraynet.EarlyStopping or None; got 'yes'"),
    ],
)
def test_bad_validation_arguments_are_said(arguments, error, message):
    with pytest.raises(error, match=message):
        network().fit(X, Y, 0.1, num_iterations=2, **arguments)


def test_bad_early_stopping_settings_are_said():
    with pytest.raises(ValueError, match=r"monitor must be one of 'cost', 'val_cost', 'val_accuracy'; got 'loss'"):
        arraynet.EarlyStopping(monitor="loss")
    with pytest.raises(ValueError, match=r"patience must be a whole number of recorded points >= 0; got -1"):
        arraynet.EarlyStopping(patience=-1)


def test_a_split_that_holds_out_a_whole_class_says_so():
    sorted_by_class = np.argsort(Y[0], kind="stable")
    with pytest.warns(UserWarning, match=r"validation_split=0\.6 holds out every example of 1 class\(es\): training never sees them"):
        network().fit(X[:, sorted_by_class], Y[:, sorted_by_class], 0.1, num_iterations=2, validation_split=0.6)
