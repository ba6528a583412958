"""The course's optimizers [C2 1.2-1.4] and learning-rate decay [C2 1.5]: each update equals the
formulas computed by hand in float64 on the host, on every backend and in both dtypes; the state
is named as the course names it; bad settings and states are said clearly."""

from __future__ import annotations

import math

import numpy as np
import pytest

import arraynet
from arraynet.backends import namespace_of, to_numpy
from arraynet.kernel.optimizers import get_optimizer

from .conftest import assert_same_place, backend_cases

RNG = np.random.default_rng(0)
PARAMETERS = {"W1": RNG.normal(size=(3, 2)), "b1": RNG.normal(size=(3, 1)), "W2": RNG.normal(size=(1, 3)), "b2": RNG.normal(size=(1, 1))}
GRADS = [{f"d{key}": RNG.normal(size=value.shape) for key, value in PARAMETERS.items()} for _ in range(4)]
ALPHA = 0.01


def by_hand(name, **settings):
    """The course's formulas, update after update, in float64 NumPy: the parameters after each."""
    W = {key: value.copy() for key, value in PARAMETERS.items()}
    v = {f"d{key}": np.zeros_like(value) for key, value in PARAMETERS.items()}
    s = {f"d{key}": np.zeros_like(value) for key, value in PARAMETERS.items()}
    beta = settings.get("beta", 0.9)
    beta1, beta2, epsilon = settings.get("beta1", 0.9), settings.get("beta2", 0.999), settings.get("epsilon", 1e-8)
    after = []
    for t, grads in enumerate(GRADS, start=1):
        for key in list(W):
            d = grads[f"d{key}"]
            if name == "gd":
                W[key] = W[key] - ALPHA * d
            elif name == "momentum":
                v[f"d{key}"] = beta * v[f"d{key}"] + (1 - beta) * d
                W[key] = W[key] - ALPHA * v[f"d{key}"]
            elif name == "rmsprop":
                s[f"d{key}"] = beta2 * s[f"d{key}"] + (1 - beta2) * d**2
                W[key] = W[key] - ALPHA * d / (np.sqrt(s[f"d{key}"]) + epsilon)
            else:
                v[f"d{key}"] = beta1 * v[f"d{key}"] + (1 - beta1) * d
                s[f"d{key}"] = beta2 * s[f"d{key}"] + (1 - beta2) * d**2
                v_corrected = v[f"d{key}"] / (1 - beta1**t)
                s_corrected = s[f"d{key}"] / (1 - beta2**t)
                W[key] = W[key] - ALPHA * v_corrected / (np.sqrt(s_corrected) + epsilon)
        after.append(({key: value.copy() for key, value in W.items()}, {"v": dict(v), "s": dict(s)}))
    return after


OPTIMIZERS = [
    ("gd", arraynet.GradientDescent(), {}),
    ("momentum", arraynet.Momentum(beta=0.8), {"beta": 0.8}),
    ("rmsprop", arraynet.RMSprop(beta2=0.99, epsilon=1e-6), {"beta2": 0.99, "epsilon": 1e-6}),
    ("adam", arraynet.Adam(beta1=0.85, beta2=0.995, epsilon=1e-7), {"beta1": 0.85, "beta2": 0.995, "epsilon": 1e-7}),
]


@pytest.mark.parametrize("backend_case", backend_cases(("float64", "float32")), indirect=True)
@pytest.mark.parametrize(("name", "optimizer", "settings"), OPTIMIZERS, ids=[name for name, _, _ in OPTIMIZERS])
def test_each_update_follows_the_course_formulas(name, optimizer, settings, backend_case, to_xp):
    dtype = backend_case.case.dtype
    parameters = {key: to_xp(value, dtype) for key, value in PARAMETERS.items()}
    state = optimizer.init(parameters)
    assert set(state) == set(optimizer.averages) == {"gd": set(), "momentum": {"v"}, "rmsprop": {"s"}, "adam": {"v", "s"}}[name]
    for average in state.values():
        assert set(average) == {"dW1", "db1", "dW2", "db2"}
        for key, value in average.items():
            assert_same_place(value, parameters[key[1:]])
            assert not np.any(to_numpy(value))
    rtol = 1e-12 if dtype == "float64" else 2e-5
    for t, (grads, (expected, expected_state)) in enumerate(zip(GRADS, by_hand(name, **settings)), start=1):
        parameters, state = optimizer.update(parameters, {k: to_xp(g, dtype) for k, g in grads.items()}, state, ALPHA, t)
        for key, value in parameters.items():
            assert_same_place(value, to_xp(PARAMETERS[key], dtype))
            np.testing.assert_allclose(to_numpy(value), expected[key], rtol=rtol, atol=rtol)
        for average in state:
            for key, value in state[average].items():
                np.testing.assert_allclose(to_numpy(value), expected_state[average][key], rtol=rtol, atol=rtol * 1e-3)


def test_update_is_pure_it_changes_none_of_its_arguments():
    parameters = {key: value.copy() for key, value in PARAMETERS.items()}
    optimizer = arraynet.Adam()
    state = optimizer.init(parameters)
    kept = {key: value.copy() for key, value in parameters.items()}
    optimizer.update(parameters, GRADS[0], state, ALPHA, 1)
    for key, value in parameters.items():
        np.testing.assert_array_equal(value, kept[key])
        assert not np.any(state["v"][f"d{key}"]) and not np.any(state["s"][f"d{key}"])


def test_momentum_is_the_course_one_with_one_minus_beta_not_pytorchs():
    parameters = {"W1": np.zeros((1, 1)), "b1": np.zeros((1, 1))}
    grads = {"dW1": np.ones((1, 1)), "db1": np.ones((1, 1))}
    momentum = arraynet.Momentum(beta=0.9)
    updated, state = momentum.update(parameters, grads, momentum.init(parameters), 1.0, 1)
    assert state["v"]["dW1"][0, 0] == pytest.approx(0.1)  # PyTorch's: 1.0
    assert updated["W1"][0, 0] == pytest.approx(-0.1)


def test_adams_first_update_moves_each_weight_by_alpha_with_epsilon_outside_the_root():
    """With the bias corrections, v_corrected = dW and s_corrected = dW^2 at t = 1: the step is
    alpha * dW / (|dW| + epsilon), which the folded form of Keras and scikit-learn does not give."""
    parameters = {"W1": np.zeros((1, 2)), "b1": np.zeros((1, 1))}
    grads = {"dW1": np.array([[1e-8, 2.0]]), "db1": np.array([[-3.0]])}
    updated, _ = arraynet.Adam().update(parameters, grads, arraynet.Adam().init(parameters), 0.1, 1)
    np.testing.assert_allclose(updated["W1"], [[-0.1 * 1e-8 / (1e-8 + 1e-8), -0.1 * 2 / (2 + 1e-8)]], rtol=1e-12)
    np.testing.assert_allclose(updated["b1"], [[0.1 * 3 / (3 + 1e-8)]], rtol=1e-12)


def test_optimizers_by_name_and_equal_settings_compare_equal():
    assert get_optimizer("adam") == arraynet.Adam() == arraynet.Adam(0.9, 0.999, 1e-8)
    assert arraynet.Adam(beta1=0.8) != arraynet.Adam()
    assert arraynet.Momentum() != arraynet.RMSprop()
    assert repr(arraynet.Momentum(beta=0.5)) == "Momentum(beta=0.5)"
    assert isinstance(get_optimizer("GD"), arraynet.GradientDescent)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: get_optimizer("sgd"), r"optimizer must be one of 'gd', 'momentum', 'rmsprop', 'adam' or an optimizer .*; got 'sgd'"),
        (lambda: arraynet.Momentum(beta=1.0), r"Momentum: beta must be a number in \[0, 1\), e.g. 0.9; got 1.0"),
        (lambda: arraynet.Adam(beta2=-0.1), r"Adam: beta2 must be a number in \[0, 1\)"),
        (lambda: arraynet.RMSprop(epsilon=0), r"RMSprop: epsilon must be a positive number, e.g. 1e-8; got 0"),
        (lambda: arraynet.Decay(-1.0), r"decay_rate must be a finite number >= 0"),
        (lambda: arraynet.Decay(1.0, time_interval=0), r"time_interval must be a whole number of epochs >= 1; got 0"),
    ],
)
def test_bad_settings_are_said(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_state_of_another_optimizer_or_model_is_refused_with_what_to_do():
    adam = arraynet.Adam()
    momentum_state = arraynet.Momentum().init(PARAMETERS)
    with pytest.raises(ValueError, match=r"state must hold \['v', 's'\] for Adam\(.*\).*got keys \['v'\].*init\(parameters\)"):
        adam.update(PARAMETERS, GRADS[0], momentum_state, ALPHA, 1)
    other = arraynet.Adam().init({"W1": np.zeros((2, 2)), "b1": np.zeros((2, 1))})
    with pytest.raises(ValueError, match=r"state\['v'\] must have exactly the keys dW1, db1, dW2, db2"):
        adam.update(PARAMETERS, GRADS[0], other, ALPHA, 1)
    with pytest.raises(ValueError, match=r"t must be the 1-based number of this update \(an int >= 1\); got 0"):
        adam.update(PARAMETERS, GRADS[0], adam.init(PARAMETERS), ALPHA, 0)


def test_decay_is_the_course_formula_and_its_scheduled_variant():
    assert arraynet.Decay(1.0)(0.2, 0) == 0.2
    assert arraynet.Decay(1.0)(0.2, 3) == pytest.approx(0.05)
    scheduled = arraynet.Decay(0.5, time_interval=10)
    assert [scheduled(1.0, epoch) for epoch in (0, 9, 10, 25)] == [1.0, 1.0, 1 / 1.5, 0.5]


def test_adams_corrections_are_host_float64_scalars_the_same_for_every_backend():
    scalars = arraynet.Adam().scalars(0.01, 3)
    assert all(type(value) is float for value in scalars)
    assert scalars == (0.01, 1 - 0.9**3, 1 - 0.999**3)
    assert math.isclose(scalars[2], 0.002997001, rel_tol=1e-12)


def test_the_namespace_is_the_parameters():
    optimizer = arraynet.Momentum()
    state = optimizer.init(PARAMETERS)
    assert namespace_of(state["v"]["dW1"]) is namespace_of(PARAMETERS["W1"])


def test_an_optimizer_that_does_not_declare_its_settings_is_equal_only_to_itself():
    """Its settings are unknown: two instances must not share a state or a compiled step."""

    class Scaled(arraynet.Optimizer):
        name = "scaled"

        def __init__(self, factor):
            self.factor = factor

        def _apply(self, parameters, grads, state, scalars, xp):
            return {key: value - scalars[0] * self.factor * grads[f"d{key}"] for key, value in parameters.items()}, state

    one = Scaled(1.0)
    assert one == [one][0] and one != Scaled(1.0) and one != Scaled(100.0) and hash(one) != hash(Scaled(1.0))
    assert arraynet.GradientDescent() == arraynet.GradientDescent()


def test_numpy_numbers_are_numbers():
    assert arraynet.Adam(beta1=np.float32(0.5)).beta1 == 0.5
    assert arraynet.Decay(np.float64(0.5), np.int64(2)).time_interval == 2
    assert arraynet.EarlyStopping(patience=np.int64(2)).patience == 2
