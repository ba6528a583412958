"""Training UX: what the History says about a run, the callback hook, and the progress bar."""

from __future__ import annotations

import sys

import array_api_compat
import numpy as np
import pytest

import arraynet
from arraynet.backends import backend_name
from arraynet.models import progress

X_FLOWER, Y_FLOWER = arraynet.load_flower()


def flower_network():
    return arraynet.NeuralNetwork([2, 4, 1], hidden_activation="tanh", init="small", seed=3)


# -- the history ------------------------------------------------------------------------------------
def test_the_history_says_where_and_how_fast_the_run_went(xp, to_xp):
    X = to_xp(X_FLOWER)
    history = flower_network().fit(X, to_xp(Y_FLOWER), learning_rate=1.2, num_iterations=30, record_every=10)
    assert history.backend == backend_name(xp)
    assert history.device == str(array_api_compat.device(X))
    assert history.iterations_run == 30 and not history.stopped_early
    assert history.seconds > 0
    assert history.seconds_per_iteration == history.seconds / 30


def test_a_run_of_zero_iterations_has_no_seconds_per_iteration():
    history = flower_network().fit(X_FLOWER, Y_FLOWER, num_iterations=0)
    assert (history.iterations_run, history.iterations, history.seconds_per_iteration) == (0, [], None)


# -- the callback -----------------------------------------------------------------------------------
def test_the_callback_sees_each_recorded_iteration_with_the_parameters_that_gave_its_cost(xp, to_xp):
    X, Y = to_xp(X_FLOWER), to_xp(Y_FLOWER)
    seen = []

    def callback(iteration, cost, model):
        seen.append((iteration, cost, model.cost(X, Y)))

    model = flower_network()
    history = model.fit(X, Y, learning_rate=1.2, num_iterations=25, record_every=10, callback=callback)
    assert [iteration for iteration, _, _ in seen] == history.iterations == [0, 10, 20, 24]
    assert [cost for _, cost, _ in seen] == history.costs
    np.testing.assert_allclose([again for _, _, again in seen], history.costs, rtol=1e-12)


def test_a_callback_returning_true_stops_training_at_that_iteration(xp, to_xp):
    X, Y = to_xp(X_FLOWER), to_xp(Y_FLOWER)
    model = flower_network()
    history = model.fit(
        X, Y, learning_rate=1.2, num_iterations=1000, record_every=10,
        callback=lambda iteration, cost, model: cost < 0.6,
    )
    assert history.stopped_early
    assert history.costs[-1] < 0.6 <= history.costs[-2]
    assert history.iterations_run == history.iterations[-1] < 1000
    # the model keeps the parameters that gave the last recorded cost, ...
    assert model.cost(X, Y) == pytest.approx(history.costs[-1], rel=1e-12)
    # ... which are the full run's parameters at that iteration
    reference = flower_network()
    reference.fit(X_FLOWER, Y_FLOWER, learning_rate=1.2, num_iterations=history.iterations[-1])
    assert reference.cost(X_FLOWER, Y_FLOWER) == pytest.approx(history.costs[-1], rel=1e-10)


def test_an_error_in_the_callback_propagates_and_the_model_keeps_that_iterations_parameters():
    def callback(iteration, cost, model):
        if iteration == 20:
            raise KeyError("stop")

    model = flower_network()
    with pytest.raises(KeyError, match="stop"):
        model.fit(X_FLOWER, Y_FLOWER, learning_rate=1.2, num_iterations=100, record_every=10, callback=callback)
    reference = flower_network()
    reference.fit(X_FLOWER, Y_FLOWER, learning_rate=1.2, num_iterations=20)
    assert model.cost(X_FLOWER, Y_FLOWER) == reference.cost(X_FLOWER, Y_FLOWER)


def test_a_callback_that_is_not_callable_is_refused():
    with pytest.raises(TypeError, match=r"callback must be callable as callback\(iteration, cost, model\); got 3"):
        flower_network().fit(X_FLOWER, Y_FLOWER, num_iterations=1, callback=3)


# -- the progress bar -------------------------------------------------------------------------------
class FakeTty:
    """A standard error that says it is a terminal and keeps what is written to it."""

    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass

    def isatty(self):
        return True


def fake_terminal(monkeypatch, delay=0.0):
    """Standard error replaced by a FakeTty (in the test's body: pytest's capture resets
    sys.stderr between a fixture and the test) and the bar's delay by ``delay``."""
    monkeypatch.setattr(progress, "DELAY", delay)
    stderr = FakeTty()
    monkeypatch.setattr(sys, "stderr", stderr)
    return stderr


def test_on_a_terminal_the_bar_shows_the_iteration_and_the_cost(monkeypatch):
    terminal = fake_terminal(monkeypatch)
    history = flower_network().fit(X_FLOWER, Y_FLOWER, learning_rate=1.2, num_iterations=50, record_every=10)
    assert "50/50" in terminal.text
    assert f"cost {history.costs[-1]:.6g}" in terminal.text


def test_the_bar_waits_a_second_so_short_runs_stay_silent(monkeypatch):
    stderr = fake_terminal(monkeypatch, delay=progress.DELAY)
    assert progress.DELAY == 1.0
    flower_network().fit(X_FLOWER, Y_FLOWER, learning_rate=1.2, num_iterations=50, record_every=10)
    assert stderr.text == ""


def test_progress_false_or_an_output_that_is_not_a_terminal_shows_no_bar(monkeypatch):
    terminal = fake_terminal(monkeypatch)
    flower_network().fit(X_FLOWER, Y_FLOWER, num_iterations=50, progress=False)
    assert terminal.text == ""
    terminal.isatty = lambda: False
    flower_network().fit(X_FLOWER, Y_FLOWER, num_iterations=50)
    assert terminal.text == ""


def test_progress_true_draws_the_bar_even_into_a_file(monkeypatch, capsys):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    flower_network().fit(X_FLOWER, Y_FLOWER, num_iterations=50, progress=True)
    assert "50/50" in capsys.readouterr().err


def test_the_bar_moves_only_at_recorded_iterations_and_is_closed_on_divergence(monkeypatch):
    fake_terminal(monkeypatch)
    calls = []
    monkeypatch.setattr(progress.ProgressBar, "update", lambda self, i, cost: calls.append(i))
    monkeypatch.setattr(progress.ProgressBar, "close", lambda self: calls.append("closed"))
    flower_network().fit(X_FLOWER, Y_FLOWER, learning_rate=1.2, num_iterations=25, record_every=10)
    assert calls == [0, 10, 20, 24, "closed"]
    calls.clear()
    with pytest.raises(arraynet.DivergenceError):
        arraynet.NeuralNetwork([2, 8, 1], seed=0).fit(X_FLOWER * 1e3, Y_FLOWER, learning_rate=1e200, num_iterations=50, record_every=1)
    assert calls[-1] == "closed"


def test_without_tqdm_the_bar_is_off_unless_asked_for(monkeypatch):
    terminal = fake_terminal(monkeypatch)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if it were not installed
    flower_network().fit(X_FLOWER, Y_FLOWER, num_iterations=50)
    assert terminal.text == ""
    with pytest.raises(ImportError, match=r"progress=True needs tqdm: pip install 'arraynet\[progress\]'"):
        flower_network().fit(X_FLOWER, Y_FLOWER, num_iterations=50, progress=True)


def test_progress_must_be_true_false_or_none():
    with pytest.raises(ValueError, match="progress must be True, False or None"):
        flower_network().fit(X_FLOWER, Y_FLOWER, num_iterations=5, progress="yes")
