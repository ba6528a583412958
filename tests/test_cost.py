"""The cross-entropy cost [C1 2.3], stable at extreme logits, on every backend."""

from __future__ import annotations

import math

import numpy as np
import pytest

import arraynet
from arraynet.backends import to_numpy

from .conftest import assert_same_place


def seed_cost(a, y):
    """J = -(1/m) sum (y log a + (1 - y) log(1 - a)), literally."""
    return float(-np.mean(y * np.log(a) + (1 - y) * np.log(1 - a)))


def test_cost_equals_the_seeds_formula(xp, to_xp):
    Z = np.array([[-2.0, -0.3, 0.0, 0.7, 4.0]])
    Y = np.array([[0.0, 1.0, 1.0, 0.0, 1.0]])
    A = 1 / (1 + np.exp(-Z))
    from_logits = arraynet.compute_cost(to_xp(A), to_xp(Y), ZL=to_xp(Z))
    from_probabilities = arraynet.compute_cost(to_xp(A), to_xp(Y))
    assert_same_place(from_logits, to_xp(Z))
    assert from_logits.shape == ()
    assert float(from_logits) == pytest.approx(seed_cost(A, Y), rel=1e-14)
    assert float(from_probabilities) == pytest.approx(seed_cost(A, Y), rel=1e-14)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cost_is_finite_and_exact_at_extreme_logits(xp, to_xp, dtype):
    """Logits up to |z| = 1e4: the loss of a confident mistake is |z|, of a confident hit ~0.
    Any RuntimeWarning fails the test (pyproject's filterwarnings)."""
    Z = to_xp(np.array([[1e4, -1e4, 1e4, -1e4]]), dtype=dtype)
    Y = to_xp(np.array([[0.0, 1.0, 1.0, 0.0]]), dtype=dtype)
    AL = arraynet.Sigmoid()(Z)
    cost = float(arraynet.compute_cost(AL, Y, ZL=Z))
    assert math.isfinite(cost)
    assert cost == pytest.approx((1e4 + 1e4 + 0 + 0) / 4, rel=1e-6)


def test_cost_from_probabilities_alone_is_honestly_infinite_where_they_rounded():
    """Without the logits a confident mistake's loss is lost to rounding: inf (NumPy warns of the
    log(0)), not a made-up number."""
    with pytest.warns(RuntimeWarning, match="divide by zero encountered in log"):
        cost = arraynet.compute_cost(np.array([[1.0, 0.5]]), np.array([[0.0, 1.0]]))
    assert float(cost) == math.inf


def test_model_cost_at_extreme_logits_is_finite(xp, to_xp):
    model = arraynet.LogisticRegression()
    model.set_parameters({"w": to_xp(np.array([[1e4]])), "b": to_xp(np.array(0.0))})
    X = to_xp(np.array([[1.0, -1.0, 1.0]]))
    Y = to_xp(np.array([[0.0, 0.0, 1.0]]))
    assert model.cost(X, Y) == pytest.approx(1e4 / 3, rel=1e-12)
    assert to_numpy(model.predict_proba(X)).tolist() == [[1.0, 0.0, 1.0]]


@pytest.mark.parametrize(
    "AL, found",
    [
        ([[2.0, -1.0]], r"values from -1\.0 to 2\.0"),  # the course's formula gives J = -0.69
        ([[1.5, 0.2]], r"values from 0\.2 to 1\.5"),  # J = -0.09
        ([[0.5, -1e-300]], r"values from -1e-300 to 0\.5"),
        ([[0.5, math.nan]], "NaN"),
        ([[math.inf, 0.5]], r"values from 0\.5 to inf"),
    ],
    ids=["above and below", "above", "barely below", "NaN", "Inf"],
)
def test_predictions_outside_zero_one_are_refused_not_given_a_cost(xp, to_xp, AL, found):
    """Cross-entropy is defined for probabilities: outside [0, 1] it is negative or NaN, not a cost."""
    with pytest.raises(ValueError, match=rf"AL must hold probabilities in \[0, 1\] \(.*\); got {found}$"):
        arraynet.compute_cost(to_xp(np.array(AL)), to_xp(np.array([[1.0, 0.0]])))
    with pytest.raises(ValueError, match=r"AL must hold probabilities in \[0, 1\]"):
        arraynet.compute_cost(to_xp(np.array(AL)), to_xp(np.array([[1.0, 0.0]])), ZL=to_xp(np.zeros((1, 2))))


def test_the_ends_of_zero_one_are_probabilities(xp, to_xp):
    """0 and 1 themselves are allowed: a right prediction's loss is 0 (and a wrong one's is inf)."""
    cost = arraynet.compute_cost(to_xp(np.array([[1.0, 0.0]])), to_xp(np.array([[1.0, 0.0]])))
    assert float(cost) == 0.0


def test_predictions_and_logits_must_be_float32_or_float64(xp, to_xp):
    Y = to_xp(np.array([[1.0, 0.0]]))
    with pytest.raises(TypeError, match=r"AL must be float32 or float64; got dtype .*int"):
        arraynet.compute_cost(to_xp(np.array([[1, 0]])), Y)
    AL = to_xp(np.array([[0.7, 0.2]]))
    with pytest.raises(TypeError, match=r"ZL must have the dtype of AL, .*float64; got .*float32"):
        arraynet.compute_cost(AL, Y, ZL=to_xp(np.array([[0.8, -1.4]]), dtype="float32"))
    with pytest.raises(ValueError, match=r"AL must hold at least one prediction \(m >= 1\); got shape \(1, 0\)"):
        arraynet.compute_cost(to_xp(np.zeros((1, 0))), to_xp(np.zeros((1, 0))))


def test_strings_as_logits_are_a_type_error():
    with pytest.raises(TypeError, match=r"ZL must have the dtype of AL, float64; got <U3"):
        arraynet.compute_cost(np.array([[0.5]]), np.array([[1.0]]), ZL=np.array([["0.1"]]))
