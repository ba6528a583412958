"""The cross-entropy cost [seed 2.3], stable at extreme logits, on every backend."""

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
