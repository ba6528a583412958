"""Mini-batch training with an optimizer on Dask arrays (``arraynet.steps.distributed.DaskEpochStep``):
an epoch is a chain of one task per chunk, one compute. Its numbers against the course's loop
written out by hand with NumPy over the same batches (the chunks' order and each chunk's examples
drawn as the step documents), and against NumPy's in-memory fit where the batches are the same;
the data's checks riding on the first compute; a real ``distributed.LocalCluster`` of two worker
processes, one of which is killed in the middle of an epoch.

Everything but the cluster tests runs on Dask's synchronous scheduler, where a
``dask.callbacks.Callback`` counts the computes."""

from __future__ import annotations

import os
import threading
from dataclasses import replace

import numpy as np
import pytest

import arraynet
from arraynet.kernel.minibatches import partition
from arraynet.steps import DaskEpochStep, GenericEpochStep, choose_epoch_step
from arraynet.steps.plan import EpochPlan

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

from .test_dask import Computes, synchronous  # noqa: F401 (the synchronous scheduler: an autouse fixture)
from .test_dask import planar as dask_planar

TOLERANCE = 1e-12  # relative, float64: the same operations; the epoch's cost adds the chunks' sums
ACTIVATIONS = ["relu", "tanh", "sigmoid"]
OPTIMIZERS = [arraynet.GradientDescent(), arraynet.Momentum(beta=0.8), arraynet.Adam()]
OPTIMIZER_IDS = ["gd", "momentum", "adam"]


def planar(m=1000, n_x=4, seed=0):
    return dask_planar(m, n_x, seed)


def network(**kwargs):
    return arraynet.NeuralNetwork([4, 5, 3, 1], activations=ACTIVATIONS, seed=2, **kwargs)


def on_dask(X, Y, sizes):
    return da.from_array(X, chunks=(X.shape[0], sizes)), da.from_array(Y, chunks=(1, sizes))


def assert_close(got, expected, tolerance=TOLERANCE):
    assert sorted(got) == sorted(expected)  # an optimizer's averages come in backpropagation's order
    for key in expected:
        assert type(got[key]) is type(expected[key]), key  # on the client, never Dask arrays
        scale = max(float(np.max(np.abs(expected[key]))), 1e-300)
        assert float(np.max(np.abs(got[key] - expected[key]))) <= tolerance * scale, key


def by_hand(parameters, X, Y, sizes, batch_size, optimizer, learning_rate, epochs, seed, shuffle=True):
    """The course's mini-batch loop [C2 1.1] over the chunks as DaskEpochStep documents it: each
    epoch's generator numpy.random.default_rng([seed, epoch]) draws the chain's order of the chunks
    with examples, then each chunk's order of its examples, chunk by chunk in the chain's order;
    each chunk's batches are floor(c / b) of b and the rest; one optimizer.update per batch, t
    counted across epochs. Returns (parameters, state, epoch costs)."""
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    blocks = [(int(start), int(size)) for start, size in zip(starts, sizes) if size > 0]
    state, t, costs = optimizer.init(parameters), 0, []
    for epoch in range(epochs):
        rng = np.random.default_rng([seed, epoch])
        chain = rng.permutation(len(blocks)) if shuffle else range(len(blocks))
        total = 0.0
        for j in chain:
            start, size = blocks[j]
            order = start + (rng.permutation(size) if shuffle else np.arange(size))
            for first in range(0, size, batch_size):
                index = order[first : first + batch_size]
                X_b, Y_b = X[:, index], Y[:, index]
                AL, caches = arraynet.forward(parameters, X_b, ACTIVATIONS)
                total += float(arraynet.compute_cost(AL, Y_b, caches[-1].Z)) * index.size
                t += 1
                grads = arraynet.backward(AL, Y_b, caches, ACTIVATIONS)
                parameters, state = optimizer.update(parameters, grads, state, learning_rate, t)
        costs.append(total / X.shape[1])
    return parameters, state, costs


# chunks of unequal sizes: one smaller than the batch (20 < 64), one without examples
SIZES = (100, 333, 20, 0, 250, 297)


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=OPTIMIZER_IDS)
def test_an_epoch_is_the_chunks_batches_in_a_shuffled_chain_as_written_by_hand(optimizer):
    X, Y = planar()
    start = network()
    start.fit(X, Y, 0.1, 0)  # the starting parameters
    expected, expected_state, expected_costs = by_hand(start.get_parameters(), X, Y, SIZES, 64, optimizer, 0.05, 3, seed=2)
    model = network()
    history = model.fit(*on_dask(X, Y, SIZES), 0.05, optimizer=optimizer, batch_size=64, epochs=3)
    assert history.step == "dask" and history.unit == "epoch" and history.backend == "numpy"
    assert history.updates == 3 * (2 + 6 + 1 + 4 + 5)  # each chunk's batches: none crosses chunks
    np.testing.assert_allclose(history.costs, expected_costs, rtol=TOLERANCE)
    assert_close(model.get_parameters(), expected)
    for name in optimizer.averages:
        assert_close(model._optimizer_state[name], expected_state[name])


def test_without_shuffling_the_chunks_and_their_examples_stay_in_order():
    X, Y = planar()
    start = network()
    start.fit(X, Y, 0.1, 0)
    expected, _, costs = by_hand(start.get_parameters(), X, Y, SIZES, 64, arraynet.Adam(), 0.05, 2, seed=2, shuffle=False)
    model = network()
    history = model.fit(*on_dask(X, Y, SIZES), 0.05, optimizer="adam", batch_size=64, epochs=2, shuffle=False)
    np.testing.assert_allclose(history.costs, costs, rtol=TOLERANCE)
    assert_close(model.get_parameters(), expected)


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=OPTIMIZER_IDS)
def test_chunks_of_whole_batches_unshuffled_give_numpys_in_memory_fit(optimizer):
    X, Y = planar(m=1200)
    sizes = (256, 512, 256, 176)  # multiples of 64 but the last: the batches of the data in memory
    reference, model = network(), network()
    dask_X, dask_Y = on_dask(X, Y, sizes)
    for epochs, decay in ((3, None), (2, 0.5)):  # a second fit goes on with the state, t and the epoch count
        expected = reference.fit(X, Y, 0.05, optimizer=optimizer, batch_size=64, epochs=epochs, shuffle=False, decay=decay)
        history = model.fit(dask_X, dask_Y, 0.05, optimizer=optimizer, batch_size=64, epochs=epochs, shuffle=False, decay=decay)
        assert history.updates == expected.updates == epochs * 19
        np.testing.assert_allclose(history.costs, expected.costs, rtol=TOLERANCE)
        assert_close(model.get_parameters(), reference.get_parameters())
        for name in optimizer.averages:
            assert_close(model._optimizer_state[name], reference._optimizer_state[name])


def test_logistic_regression_and_float32_train_on_dask_as_in_memory():
    X, Y = planar(m=1200)
    reference, model = arraynet.LogisticRegression(), arraynet.LogisticRegression()
    expected = reference.fit(X, Y, 0.1, optimizer="momentum", batch_size=100, epochs=4, shuffle=False)
    history = model.fit(*on_dask(X, Y, 300), 0.1, optimizer="momentum", batch_size=100, epochs=4, shuffle=False)
    np.testing.assert_allclose(history.costs, expected.costs, rtol=TOLERANCE)
    assert_close(model.get_parameters(), reference.get_parameters())
    assert model.get_parameters()["b"].shape == ()
    single = X.astype(np.float32)
    reference, model = network(), network()
    expected = reference.fit(single, Y, 0.05, optimizer="adam", batch_size=50, epochs=2, shuffle=False)
    history = model.fit(*on_dask(single, Y.astype(bool), 200), 0.05, optimizer="adam", batch_size=50, epochs=2, shuffle=False)
    assert model.get_parameters()["W1"].dtype == np.float32
    np.testing.assert_allclose(history.costs, expected.costs, rtol=1e-6)  # float32: the chunks' sums added
    assert_close(model.get_parameters(), reference.get_parameters(), tolerance=1e-6)


def test_one_compute_per_epoch():
    X, Y = planar()
    dask_X, dask_Y = on_dask(X, Y, 100)
    model = network()
    with Computes() as computes:
        model.fit(dask_X, dask_Y, 0.05, optimizer="adam", batch_size=32, epochs=5, record_every=2)
    assert computes.count == 5 + 1  # and the labels held where the tasks run, once
    with Computes() as computes:
        model.fit(dask_X, dask_Y, 0.05, optimizer="adam", batch_size=32, epochs=3)
    assert computes.count == 3 + 1


def test_the_epochs_cost_adds_the_chunks_weighted_sums_as_memory_adds_the_batches():
    X, Y = planar(m=1200)
    model = network()
    kernel, optimizer = model._kernel(), arraynet.Adam()
    model.fit(X, Y, 0.1, 0)
    parameters = model.get_parameters()
    state = optimizer.init(parameters)
    sizes = (320, 160, 480, 240)  # the same batches of 80 as in memory
    step = DaskEpochStep.create(kernel, optimizer, parameters, state, *on_dask(X, Y, sizes), 80, np)
    generic = GenericEpochStep.create(kernel, optimizer, parameters, state, X, Y, 80, np)
    assert step.batches == generic.batches == len(partition(1200, 80)) == 15
    for number in range(3):
        scalars = np.array([optimizer.scalars(0.05, number * 15 + k) for k in range(1, 16)])
        plan = EpochPlan(number, False, 0, 1200, scalars)
        got, expected = step.epoch(plan), generic.epoch(plan)
        assert float(got) == pytest.approx(float(expected), rel=TOLERANCE)
        assert_close(step.snapshot()[0], generic.snapshot()[0])
    assert_close(step.snapshot()[1]["s"], generic.snapshot()[1]["s"])
    assert_close(parameters, model.get_parameters(), tolerance=0)  # what it was given is left alone
    uneven = DaskEpochStep.create(kernel, optimizer, parameters, state, *on_dask(X, Y, (100, 1000, 30, 70)), 80, np)
    assert uneven.batches == 2 + 13 + 1 + 1  # batches never cross chunks


def assert_equal_bits(got, expected):
    """Parameters, or an optimizer's state (one dict of arrays per average), equal bit for bit."""
    assert sorted(got) == sorted(expected)  # an optimizer's averages come in backpropagation's order
    for key in expected:
        if isinstance(expected[key], dict):
            assert_equal_bits(got[key], expected[key])
        else:
            assert got[key].dtype == expected[key].dtype, key
            np.testing.assert_array_equal(got[key], expected[key], strict=True, err_msg=key)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_each_chunks_task_runs_the_fast_in_memory_step_with_the_generic_loops_numbers(dtype, monkeypatch):
    """Each chunk's task runs its batches with the in-memory epoch step ``choose_epoch_step`` picks
    for it (the buffered one on NumPy), but the generic loop for a chunk of fewer batches than
    ``_FAST_MIN_BATCHES``, with ``fast_paths=False`` (or ARRAYNET_FAST_PATHS=0) and for a kernel
    without a key (a model's own forward, which only the generic loop runs); ``chunk_steps`` names
    them in X's order of the chunks with examples. The buffered tasks give the generic ones'
    numbers bit for bit (parameters, state, costs), in order and shuffled; in float64, with chunks
    of whole batches in order, the in-memory GenericEpochStep's within 1e-12. The tasks leave the
    parameters and state they are handed alone."""
    from arraynet.steps.distributed import _FAST_MIN_BATCHES

    X, Y = planar(m=1200)
    X, Y = X.astype(dtype), Y.astype(dtype)
    model = network()
    model.fit(X, Y, 0.1, 0)
    kernel, optimizer = model._kernel(), arraynet.Adam()
    parameters = model.get_parameters()
    state = optimizer.init(parameters)
    given = {key: value.copy() for key, value in parameters.items()}
    data = on_dask(X, Y, (320, 400, 0, 240, 160, 80))  # batches of 80: 4, 5, none, 3, 2, 1: those of memory
    names = tuple("buffered" if batches >= _FAST_MIN_BATCHES else "generic" for batches in (4, 5, 3, 2, 1))
    assert set(names) == {"buffered", "generic"}
    fast = DaskEpochStep.create(kernel, optimizer, parameters, state, *data, 80, np)
    generic = DaskEpochStep.create(kernel, optimizer, parameters, state, *data, 80, np, fast_paths=False)
    in_memory = GenericEpochStep.create(kernel, optimizer, parameters, state, X, Y, 80, np)
    assert fast.batches == generic.batches == in_memory.batches == 15
    assert fast.chunk_steps == generic.chunk_steps == ()  # before the first epoch
    for number in range(4):
        scalars = np.array([optimizer.scalars(0.05, number * 15 + k) for k in range(1, 16)])
        shuffled = number >= 2  # in order first, as memory's batches
        plan = EpochPlan(number, shuffled, 7, 1200, scalars)
        got, expected = fast.epoch(plan), generic.epoch(plan)
        assert fast.chunk_steps == names
        assert generic.chunk_steps == ("generic",) * 5
        assert float(got) == float(expected)
        assert_equal_bits(fast.snapshot()[0], generic.snapshot()[0])
        assert_equal_bits(fast.snapshot()[1], generic.snapshot()[1])
        if not shuffled and dtype == np.float64:
            assert float(got) == pytest.approx(float(in_memory.epoch(plan)), rel=TOLERANCE)
            assert_close(fast.snapshot()[0], in_memory.snapshot()[0])
            for name in optimizer.averages:
                assert_close(fast.snapshot()[1][name], in_memory.snapshot()[1][name])
    assert_equal_bits(parameters, given)  # what the tasks were handed is left alone
    assert_equal_bits(state, optimizer.init(parameters))
    plan = EpochPlan(0, True, 7, 1200, np.array([optimizer.scalars(0.05, k) for k in range(1, 16)]))
    own_math = DaskEpochStep.create(replace(kernel, key=None), optimizer, parameters, state, *data, 80, np)
    own_math.epoch(plan)
    assert own_math.chunk_steps == ("generic",) * 5
    monkeypatch.setenv("ARRAYNET_FAST_PATHS", "0")
    switched_off = DaskEpochStep.create(kernel, optimizer, parameters, state, *data, 80, np)
    switched_off.epoch(plan)
    assert switched_off.chunk_steps == ("generic",) * 5
    assert_equal_bits(switched_off.snapshot()[0], own_math.snapshot()[0])


def test_fit_with_fast_paths_off_runs_the_generic_loop_in_every_chunk():
    X, Y = planar(m=1200)
    data = on_dask(X, Y, 400)
    for fast_paths, expected in ((True, "buffered"), (False, "generic")):
        model = network()
        chosen = []
        original = DaskEpochStep.epoch

        def epoch(step, plan, chosen=chosen, original=original):
            cost = original(step, plan)
            chosen.append(step.chunk_steps)
            return cost

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(DaskEpochStep, "epoch", epoch)
            assert model.fit(*data, 0.05, optimizer="adam", batch_size=80, epochs=1, fast_paths=fast_paths).step == "dask"
        assert chosen == [(expected,) * 3]


@pytest.mark.parametrize("where", ["X", "labels", "NaN label"])
def test_bad_data_in_a_chunk_is_the_in_memory_error_and_leaves_the_model_as_it_was(where):
    X, Y = planar()
    bad_X, bad_Y = X.copy(), Y.copy()
    if where == "X":
        bad_X[1, 777] = np.nan
    elif where == "labels":
        bad_Y[0, 555] = 2
    else:
        bad_Y[0, 444] = np.nan
    with pytest.raises(ValueError) as in_memory:
        network().fit(bad_X, bad_Y, 0.05, optimizer="adam", batch_size=64, epochs=2)
    message = str(in_memory.value).split("; got")[0]  # Dask's says how many entries, memory's which values
    with pytest.raises(ValueError) as batch_gradient_descent:
        network().fit(*on_dask(bad_X, bad_Y, SIZES), 0.05, 2)
    fresh = network()
    with Computes() as computes, pytest.raises(ValueError) as found:
        fresh.fit(*on_dask(bad_X, bad_Y, SIZES), 0.05, optimizer="adam", batch_size=64, epochs=2)
    assert computes.count == 1 + 1  # the labels persisted, then the first epoch, which finds it
    assert str(found.value).startswith(message) and str(found.value) == str(batch_gradient_descent.value)
    with pytest.raises(arraynet.NotFittedError):
        fresh.get_parameters()
    trained = network(standardize=True)
    sizes = (100, 333, 20, 250, 297)  # no empty chunk: standardize's moments fail on one (batch gradient descent's too)
    trained.fit(*on_dask(X, Y, sizes), 0.05, optimizer="adam", batch_size=64, epochs=2)
    before = (trained.get_parameters(), trained._optimizer_state, trained._epochs, trained._updates, trained._scaling)
    with pytest.raises(ValueError, match=message.split(";")[0]):
        trained.fit(*on_dask(bad_X, bad_Y, sizes), 0.05, optimizer="adam", batch_size=64, epochs=2)
    after = (trained.get_parameters(), trained._optimizer_state, trained._epochs, trained._updates, trained._scaling)
    assert_close(after[0], before[0], tolerance=0)
    assert after[1] is before[1] and after[2:4] == before[2:4] and after[4] is before[4]


@pytest.mark.parametrize("where", ["X", "labels"])
def test_a_fit_of_no_epochs_checks_the_data_in_a_compute_of_its_own(where):
    """As a fit of 0 iterations does (and as data in memory is checked): bad data is the in-memory
    error, and a new model stays unfitted; good data makes the new model hold its starting parameters."""
    X, Y = planar()
    bad_X, bad_Y = X.copy(), Y.copy()
    if where == "X":
        bad_X[2, 600] = np.inf
    else:
        bad_Y[0, 123] = 7
    message = "X must be finite" if where == "X" else "Y must hold binary labels"
    fresh = network()
    with Computes() as computes, pytest.raises(ValueError, match=message):
        fresh.fit(*on_dask(bad_X, bad_Y, SIZES), 0.05, optimizer="adam", batch_size=64, epochs=0)
    assert computes.count == 1 + 1  # the labels persisted, then the check
    with pytest.raises(arraynet.NotFittedError):
        fresh.get_parameters()
    with pytest.raises(ValueError, match=message):
        network().fit(*on_dask(bad_X, bad_Y, SIZES), 0.05, num_iterations=0)
    history = fresh.fit(*on_dask(X, Y, SIZES), 0.05, optimizer="adam", batch_size=64, epochs=0)
    assert history.epochs == [] and fresh._epochs == 0
    assert_close(fresh.get_parameters(), network()._initial_parameters(4, np, np.float64, None), tolerance=0)


def test_a_callable_shuffle_is_refused_saying_why():
    X, Y = planar()
    model = network()
    with pytest.raises(ValueError, match=r"shuffle: a callable shuffle\(epoch\) orders all m examples of X, which a Dask X cannot follow.*shuffle=True"):
        model.fit(*on_dask(X, Y, 250), 0.05, optimizer="adam", batch_size=64, epochs=2, shuffle=lambda epoch: np.arange(1000))
    with pytest.raises(arraynet.NotFittedError):
        model.get_parameters()


def test_choose_epoch_step_takes_dask_data_whatever_fast_paths_says():
    X, Y = planar()
    model = network()
    model.fit(X, Y, 0.1, 0)
    parameters, optimizer = model.get_parameters(), arraynet.Adam()
    arguments = (model._kernel(), optimizer, parameters, optimizer.init(parameters))
    for fast_paths in (True, False):
        assert isinstance(choose_epoch_step(*arguments, *on_dask(X, Y, 250), 64, np, fast_paths), DaskEpochStep)
    with pytest.raises(arraynet.steps.NotApplicable, match="X is not a Dask array but ndarray"):
        DaskEpochStep.create(*arguments, X, Y, 64, np)
    assert isinstance(DaskEpochStep.create(*arguments, *on_dask(X, Y, 250), 64, np), arraynet.steps.EpochStep)


def test_cupy_chunks_train_on_the_gpu_with_cupy_parameters():
    reason = arraynet.backends._unusable_reason("cupy")
    if reason is not None:
        pytest.skip(f"needs a GPU: CuPy is not usable ({reason})")
    X, Y = planar(m=1200)
    reference = network()
    expected = reference.fit(X, Y, 0.05, optimizer="adam", batch_size=64, epochs=3, shuffle=False)
    on_gpu = [arraynet.asarray(a, "cupy") for a in on_dask(X, Y, (256, 512, 256, 176))]
    model = network()
    history = model.fit(*on_gpu, 0.05, optimizer="adam", batch_size=64, epochs=3, shuffle=False)
    assert history.step == "dask" and history.backend == "cupy"
    np.testing.assert_allclose(history.costs, expected.costs, rtol=1e-10)
    for key, value in reference.get_parameters().items():
        np.testing.assert_allclose(arraynet.backends.to_numpy(model.get_parameters()[key]), value, rtol=1e-10, atol=1e-14)
    shuffled = network()
    shuffled.fit(*on_gpu, 0.05, optimizer="adam", batch_size=64, epochs=2)  # the permutations gathered on the GPU
    on_host = network()
    on_host.fit(*on_dask(X, Y, (256, 512, 256, 176)), 0.05, optimizer="adam", batch_size=64, epochs=2)
    for key, value in on_host.get_parameters().items():
        np.testing.assert_allclose(arraynet.backends.to_numpy(shuffled.get_parameters()[key]), value, rtol=1e-10, atol=1e-14)


# -- a real cluster: two worker processes --------------------------------------------------------

@pytest.fixture(scope="module")
def cluster():
    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", memory_limit="2GiB"
        )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_a_fit_on_a_local_cluster_of_two_workers(cluster):
    X, Y = planar(m=4000)
    sizes = (500,) * 7 + (300, 200)
    expected = network()
    expected_history = expected.fit(*on_dask(X, Y, sizes), 0.05, optimizer="adam", batch_size=64, epochs=3)
    dask_X, dask_Y = cluster.persist(list(on_dask(X, Y, sizes)))
    distributed.wait([dask_X, dask_Y])
    assert len({w for w in cluster.who_has(dask_X).values() for w in w}) == 2  # the data is on both workers
    with dask.config.set(scheduler="distributed"):
        model = network()
        history = model.fit(dask_X, dask_Y, 0.05, optimizer="adam", batch_size=64, epochs=3)
    assert history.step == "dask"
    np.testing.assert_allclose(history.costs, expected_history.costs, rtol=TOLERANCE)
    assert_close(model.get_parameters(), expected.get_parameters())


class KilledOnce(arraynet.NeuralNetwork):
    """A network whose forward propagation, in a process other than the test's, kills that
    process at its ``calls``-th run after the file ``trigger`` appears, once over all processes
    (the first to create the file ``done``)."""

    def __init__(self, trigger, done, calls, **kwargs):
        super().__init__([4, 5, 3, 1], activations=ACTIVATIONS, seed=2, **kwargs)
        self.trigger, self.done, self.calls, self.client_pid = str(trigger), str(done), calls, os.getpid()

    def _forward(self, parameters, X, xp):
        if os.getpid() != self.client_pid and os.path.exists(self.trigger):
            _CALLS[0] += 1
            if _CALLS[0] >= self.calls:
                try:
                    os.close(os.open(self.done, os.O_CREAT | os.O_EXCL))
                except FileExistsError:
                    pass
                else:
                    os.kill(os.getpid(), 9)
        return super()._forward(parameters, X, xp)


_CALLS = [0]  # forward runs after the trigger, in this process


def test_a_worker_killed_mid_epoch_is_recomputed_and_the_fit_completes(cluster, tmp_path):
    X, Y = planar(m=4000)
    sizes = (500,) * 8  # 8 batches of 64 each: the 12th forward after the trigger is in a worker's second chunk
    expected = network()
    expected_history = expected.fit(*on_dask(X, Y, sizes), 0.05, optimizer="adam", batch_size=64, epochs=3)
    dask_X, dask_Y = cluster.persist(list(on_dask(X, Y, sizes)))
    distributed.wait([dask_X, dask_Y])
    trigger, done = tmp_path / "trigger", tmp_path / "done"

    def arm(epoch, cost, model):  # after epoch 0: the next epoch's compute kills a worker midway
        if epoch == 0:
            trigger.touch()

    outcome = {}

    def run():
        try:
            with dask.config.set(scheduler="distributed"):
                model = KilledOnce(trigger, done, calls=12)
                outcome["history"] = model.fit(dask_X, dask_Y, 0.05, optimizer="adam", batch_size=64, epochs=3, callback=arm)
                outcome["model"] = model
        except Exception as exc:  # noqa: BLE001 - the assertion shows it
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive(), "the fit hung after a worker was killed"
    assert "error" not in outcome, repr(outcome.get("error"))
    assert done.exists()  # a worker was killed, in epoch 1
    np.testing.assert_allclose(outcome["history"].costs, expected_history.costs, rtol=TOLERANCE)
    assert_close(outcome["model"].get_parameters(), expected.get_parameters())
    cluster.wait_for_workers(2, timeout=60)  # the nanny restarts it, for the tests after this one


def test_far_too_many_small_chunks_are_said_with_the_chunk_size_to_use():
    X, Y = planar(m=3000)
    with pytest.warns(UserWarning, match=r"X is a Dask array of 3000 chunks of about 1 examples each: .*rechunk it once, e\.g\. X = X\.rechunk\(\{1: 10000\}\)\.persist\(\)"):
        network().fit(da.from_array(X, chunks=(4, 1)), Y, 0.1, num_iterations=0)


def classes_data(m=1200, C=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((4, m))
    return X, np.argmax(X[:C] + 0.3 * rng.standard_normal((C, m)), axis=0).astype(np.float64)[None, :]


@pytest.mark.parametrize(
    "kwargs",
    [{"num_iterations": 30, "record_every": 10}, {"optimizer": "adam", "batch_size": 100, "epochs": 4, "shuffle": False}],
    ids=["DaskStep", "DaskEpochStep"],
)
def test_a_softmax_network_trains_on_dask_class_indices_as_on_numpy(kwargs):
    X, Y = classes_data()
    reference = arraynet.NeuralNetwork([4, 5, 3], seed=1)
    expected = reference.fit(X, Y, 0.1, **kwargs)
    model = arraynet.NeuralNetwork([4, 5, 3], seed=1)
    history = model.fit(*on_dask(X, Y, 300), 0.1, **kwargs)
    assert history.step == "dask"
    np.testing.assert_allclose(history.costs, expected.costs, rtol=TOLERANCE)
    assert_close(model.get_parameters(), reference.get_parameters())
    dask_X = da.from_array(X, chunks=(4, 300))
    np.testing.assert_array_equal(model.predict(dask_X).compute(), reference.predict(X))
    np.testing.assert_allclose(model.predict_proba(dask_X).compute(), reference.predict_proba(X), rtol=1e-12)


@pytest.mark.parametrize("bad", [3.0, 1.5, -1.0, np.nan])
@pytest.mark.parametrize(
    "kwargs", [{"num_iterations": 3}, {"optimizer": "adam", "batch_size": 100, "epochs": 2}], ids=["DaskStep", "DaskEpochStep"]
)
def test_bad_class_indices_on_dask_fail_the_first_compute_as_on_numpy(bad, kwargs):
    X, Y = classes_data()
    Y[0, 950] = bad
    message = "Y must be finite" if np.isnan(bad) else r"Y must hold class indices 0\.\.2 \(whole numbers, one per example\)"
    with pytest.raises(ValueError, match=message):
        arraynet.NeuralNetwork([4, 5, 3], seed=1).fit(X, Y, 0.1, **kwargs)
    model = arraynet.NeuralNetwork([4, 5, 3], seed=1)
    dask_X, dask_Y = on_dask(X, Y, 300)
    with Computes() as computes, pytest.raises(ValueError, match=message):
        model.fit(dask_X, dask_Y, 0.1, **kwargs)
    assert computes.count == 1 + 1  # the labels persisted, then the first iteration or epoch: no pass of its own
    with pytest.raises(ValueError, match=r"must hold class indices of shape \(1, m\) = \(1, 1200\).*argmax"):
        model.fit(dask_X, da.from_array(np.eye(3)[:, np.zeros(1200, dtype=int)], chunks=(3, 300)), 0.1, 3)


def test_a_softmax_network_scores_dask_data_as_numpy_data():
    X, _ = planar(m=600)
    labels = np.digitize(X[0] + X[1], [-0.5, 0.5]).reshape(1, -1)  # classes 0, 1, 2
    model = arraynet.NeuralNetwork([4, 5, 3], seed=0)
    model.fit(X, labels, 0.1, num_iterations=50)
    dask_X, dask_labels = da.from_array(X, chunks=(4, 200)), da.from_array(labels, chunks=(1, 200))
    assert model.cost(dask_X, dask_labels) == pytest.approx(model.cost(X, labels), rel=1e-12)
    assert model.accuracy(dask_X, dask_labels) == model.accuracy(X, labels)


# -- validation data: evaluated in each recorded epoch's compute -------------------------------------
@pytest.mark.parametrize("held_out", ["dask", "memory", "split"])
@pytest.mark.parametrize("layers", [[4, 5, 3, 1], [4, 5, 3]], ids=["sigmoid", "softmax"])
def test_validation_data_is_evaluated_in_each_recorded_epochs_compute_as_in_memory(held_out, layers):
    """Validation data on Dask (or split off a Dask X) gives the validation costs and accuracies of
    NumPy's in-memory fit, with no compute of its own: its chunks are evaluated by tasks after the
    epoch's chain, in the same compute; in memory beside a Dask X, on the client."""
    X, Y = planar(m=1200) if layers[-1] == 1 else classes_data()
    reference = arraynet.NeuralNetwork(layers, seed=3)
    kwargs = {"optimizer": "adam", "batch_size": 64, "epochs": 5, "record_every": 2, "shuffle": False}
    expected = reference.fit(X[:, :900], Y[:, :900], 0.05, validation_data=(X[:, 900:], Y[:, 900:]), **kwargs)
    dask_X, dask_Y = on_dask(X, Y, (256, 320, 324, 200, 100))  # the split at 900: chunks of whole batches before it
    given = {
        "dask": {"validation_data": (dask_X[:, 900:], dask_Y[:, 900:])},
        "memory": {"validation_data": (X[:, 900:], Y[:, 900:])},
        "split": {"validation_split": 0.25},
    }[held_out]
    model = arraynet.NeuralNetwork(layers, seed=3)
    training = (dask_X, dask_Y) if held_out == "split" else (dask_X[:, :900], dask_Y[:, :900])
    with Computes() as computes:
        history = model.fit(*training, 0.05, **given, **kwargs)
    assert history.step == "dask" and history.iterations == [0, 2, 4]
    assert computes.count == 5 + 1 + (held_out != "memory")  # the epochs, the labels' persists (on Dask)
    np.testing.assert_allclose(history.costs, expected.costs, rtol=TOLERANCE)
    np.testing.assert_allclose(history.val_costs, expected.val_costs, rtol=TOLERANCE)
    assert history.val_accuracies == expected.val_accuracies
    assert_close(model.get_parameters(), reference.get_parameters())


def test_early_stopping_on_dask_restores_the_best_epoch_as_in_memory():
    X, Y = planar(m=1200)
    kwargs = {"optimizer": "adam", "batch_size": 64, "epochs": 30, "shuffle": False}
    stop = {"patience": 2, "restore_best": True}
    # a learning rate large enough that the validation cost climbs after its best
    reference = network()
    expected = reference.fit(X, Y, 0.3, validation_split=0.25, early_stopping=arraynet.EarlyStopping(**stop), **kwargs)
    model = network()
    dask_data = on_dask(X, Y, (256, 320, 324, 300))  # chunks of whole batches before the split at 900
    history = model.fit(*dask_data, 0.3, validation_split=0.25, early_stopping=arraynet.EarlyStopping(**stop), **kwargs)
    assert history.stopped_early and expected.stopped_early and history.iterations == expected.iterations
    np.testing.assert_allclose(history.val_costs, expected.val_costs, rtol=TOLERANCE)
    assert_close(model.get_parameters(), reference.get_parameters())


@pytest.mark.parametrize("where", ["X", "labels"])
@pytest.mark.parametrize("kwargs", [{"num_iterations": 3}, {"optimizer": "adam", "batch_size": 100, "epochs": 2}], ids=["DaskStep", "DaskEpochStep"])
def test_bad_dask_validation_data_is_said_of_the_validation_data(where, kwargs):
    X, Y = planar()
    X_val, Y_val = X[:, :300].copy(), Y[:, :300].copy()
    if where == "X":
        X_val[2, 123] = np.inf
    else:
        Y_val[0, 45] = 0.5
    message = r"validation_data \(X_val, Y_val\): " + ("X must be finite" if where == "X" else "Y must hold binary labels")
    with pytest.raises(ValueError, match=message):
        network().fit(X, Y, 0.05, validation_data=(X_val, Y_val), **kwargs)
    with pytest.raises(ValueError, match=message):
        network().fit(*on_dask(X, Y, 250), 0.05, validation_data=on_dask(X_val, Y_val, 100), **kwargs)


def test_bad_dask_validation_data_found_after_training_leaves_the_model_as_it_was():
    """Where the step does not evaluate the validation data itself, their first compute comes after
    the first recorded point's training: the error still leaves the model as it was (a trained one
    its parameters and counts, a new one unfitted)."""
    X, Y = planar()
    X_val = X[:, :300].copy()
    X_val[1, 3] = np.nan
    bad = (da.from_array(X_val, chunks=(4, 100)), da.from_array(Y[:, :300], chunks=(1, 100)))
    trained = network()
    trained.fit(X, Y, 0.05, optimizer="adam", batch_size=64, epochs=2)
    before = (trained.get_parameters(), trained._epochs, trained._updates)
    with pytest.raises(ValueError, match=r"validation_data \(X_val, Y_val\): X must be finite"):
        trained.fit(X, Y, 0.05, optimizer="adam", batch_size=64, epochs=3, validation_data=bad)
    assert_close(trained.get_parameters(), before[0], tolerance=0)
    assert (trained._epochs, trained._updates) == before[1:]
    fresh = network()
    with pytest.raises(ValueError, match=r"validation_data \(X_val, Y_val\): X must be finite"):
        fresh.fit(*on_dask(X, Y, 250), 0.05, num_iterations=3, validation_data=bad)
    with pytest.raises(arraynet.NotFittedError):
        fresh.get_parameters()


def test_validation_data_in_memory_beside_a_dask_X_is_checked_as_beside_data_in_memory():
    """In memory beside a Dask X, validation data must be of the chunks' library and dtype (said at
    once), is checked at once (even for a fit of no epochs) and may hold one-hot labels."""
    X, Y = classes_data()
    dask_X, dask_Y = on_dask(X, Y, 300)
    one_hot = np.eye(3)[:, Y[0, :200].astype(int)]
    reference = arraynet.NeuralNetwork([4, 5, 3], seed=1)
    expected = reference.fit(X, Y, 0.05, optimizer="adam", batch_size=100, epochs=2, shuffle=False, validation_data=(X[:, :200], one_hot))
    history = arraynet.NeuralNetwork([4, 5, 3], seed=1).fit(
        dask_X, dask_Y, 0.05, optimizer="adam", batch_size=100, epochs=2, shuffle=False, validation_data=(X[:, :200], one_hot)
    )
    np.testing.assert_allclose(history.val_costs, expected.val_costs, rtol=TOLERANCE)
    not_finite = X[:, :200].copy()
    not_finite[2, 7] = np.inf
    with pytest.raises(ValueError, match=r"validation_data \(X_val, Y_val\): X must be finite"):
        arraynet.NeuralNetwork([4, 5, 3]).fit(dask_X, dask_Y, 0.05, optimizer="adam", batch_size=100, epochs=0, validation_data=(not_finite, Y[:, :200]))
    with pytest.raises(TypeError, match=r"validation_data \(X_val, Y_val\): X has dtype float32 but the training X is float64"):
        arraynet.NeuralNetwork([4, 5, 3]).fit(dask_X, dask_Y, 0.05, 2, validation_data=(X[:, :200].astype(np.float32), Y[:, :200]))
    strict = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match=r"validation_data \(X_val, Y_val\): X is a array_api_strict array .*cannot be mixed"):
        arraynet.NeuralNetwork([4, 5, 3]).fit(dask_X, dask_Y, 0.05, 2, validation_data=(strict.asarray(X[:, :200]), strict.asarray(Y[:, :200])))


def test_validation_data_on_dask_beside_batch_gradient_descent_or_data_in_memory_is_evaluated_as_in_memory():
    """Where the step does not evaluate it in its own work (batch gradient descent on Dask, any fit
    on data in memory), Dask validation data gets a compute of its own at each recorded point."""
    X, Y = planar(m=1200)
    fit = {"num_iterations": 25, "record_every": 10}
    expected = network().fit(X[:, :900], Y[:, :900], 0.1, validation_data=(X[:, 900:], Y[:, 900:]), **fit)
    dask_X, dask_Y = on_dask(X, Y, 300)
    history = network().fit(dask_X, dask_Y, 0.1, validation_split=0.25, **fit)
    assert history.step == "dask"
    np.testing.assert_allclose(history.val_costs, expected.val_costs, rtol=TOLERANCE)
    assert history.val_accuracies == expected.val_accuracies
    with Computes() as computes:
        history = network().fit(X[:, :900], Y[:, :900], 0.1, validation_data=(dask_X[:, 900:], dask_Y[:, 900:]), **fit)
    assert history.step != "dask" and computes.count == 4  # one for each recorded point
    np.testing.assert_allclose(history.val_costs, expected.val_costs, rtol=TOLERANCE)
