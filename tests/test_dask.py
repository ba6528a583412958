"""Training and prediction on Dask arrays (``arraynet.steps.distributed``): the same parameters as
NumPy on the same data, one compute per iteration, validation that reads no data, and a real
``distributed.LocalCluster`` of two worker processes, one of which is killed mid-fit.

Everything but the cluster tests runs on Dask's synchronous scheduler, where a
``dask.callbacks.Callback`` counts the computes."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest

import arraynet
from arraynet.steps import DaskStep

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
from dask.callbacks import Callback

distributed = pytest.importorskip("distributed")

TOLERANCE = 1e-12  # relative, float64: sums over m added chunk by chunk, in another order


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


class Computes(Callback):
    """Counts the computes run while it is active."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def _start(self, dsk):
        self.count += 1


def planar(m=1200, n_x=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    Y = ((X[0] * X[1] + 0.3 * rng.standard_normal(m)) > 0).astype(np.float64)[None, :]
    return X, Y


def assert_parameters_equal(model, reference, tolerance=TOLERANCE):
    got, expected = model.get_parameters(), reference.get_parameters()
    assert list(got) == list(expected)
    for key in expected:
        assert type(got[key]) is type(expected[key]), key  # on the client as NumPy's, never Dask arrays
        scale = max(float(np.max(np.abs(expected[key]))), 1e-300)
        assert float(np.max(np.abs(got[key] - expected[key]))) <= tolerance * scale, key


def network(**kwargs):
    return arraynet.NeuralNetwork([4, 5, 3, 1], activations=["relu", "tanh", "sigmoid"], seed=2, **kwargs)


@pytest.mark.parametrize(
    "chunks",
    [(4, 1200), (4, 300), (4, 7), (4, 1), (4, (100, 1000, 37, 63))],
    ids=["one chunk", "even", "odd", "one example each", "uneven"],
)
def test_a_network_trained_on_dask_arrays_has_numpys_parameters(chunks):
    X, Y = planar(m=1200 if chunks[1] != 1 else 60)
    reference = network()
    expected = reference.fit(X, Y, 0.3, 40, record_every=10)
    model = network()
    history = model.fit(da.from_array(X, chunks=chunks), da.from_array(Y, chunks=(1, chunks[1])), 0.3, 40, record_every=10)
    assert history.step == "dask" and history.backend == "numpy"
    assert history.iterations == expected.iterations
    np.testing.assert_allclose(history.costs, expected.costs, rtol=TOLERANCE)
    assert_parameters_equal(model, reference)


def test_logistic_regression_on_dask_arrays_has_numpys_parameters():
    X, Y = planar()
    reference = arraynet.LogisticRegression()
    reference.fit(X, Y, 0.1, 200)
    model = arraynet.LogisticRegression()
    model.fit(da.from_array(X, chunks=(4, 250)), da.from_array(Y, chunks=(1, 250)), 0.1, 200)
    assert_parameters_equal(model, reference)
    assert model.get_parameters()["b"].shape == ()


def test_labels_chunked_otherwise_or_in_memory_integer_and_bool_data_are_taken():
    X, Y = planar()
    reference = network()
    reference.fit(X, Y, 0.3, 30)
    dask_X = da.from_array(X, chunks=(4, 250))
    for labels in (da.from_array(Y, chunks=(1, 400)), Y, da.from_array(Y.astype(bool), chunks=(1, 100)), Y.astype(np.int8)):
        model = network()
        model.fit(dask_X, labels, 0.3, 30)
        assert_parameters_equal(model, reference)
    integers = np.round(X * 4)
    reference_int = network()
    reference_int.fit(integers.astype(np.int64), Y, 0.3, 30)
    model = network()
    model.fit(da.from_array(integers.astype(np.int64), chunks=(4, 500)), Y, 0.3, 30)
    assert_parameters_equal(model, reference_int)


def test_one_compute_per_iteration_and_none_in_validation():
    X, Y = planar()
    dask_X, dask_Y = da.from_array(X, chunks=(4, 100)), da.from_array(Y, chunks=(1, 100))
    model = network()
    with Computes() as computes:
        model._check_X(dask_X)
        X_checked, xp, device = model._check_X(dask_X)
        arraynet._validation.check_Y(dask_Y, X_checked, xp, device)
    assert computes.count == 0
    with Computes() as computes:
        model.fit(dask_X, dask_Y, 0.3, 50, record_every=10)
    assert computes.count == 50 + 1  # and the labels held where the tasks run, once
    with Computes() as computes:
        model.cost(dask_X, dask_Y)
        model.accuracy(dask_X, dask_Y)
    assert computes.count == 2
    scaled = network(standardize=True)
    with Computes() as computes:
        scaled.fit(dask_X * 10 + 3, dask_Y, 0.3, 20)
    assert computes.count == 20 + 1 + 2  # the standardization: the largest |x|, then the moments


def test_prediction_on_dask_arrays_is_lazy_and_equals_numpys():
    X, Y = planar()
    model = network()
    model.fit(X, Y, 0.3, 30)
    dask_X = da.from_array(X, chunks=(4, 333))
    with Computes() as computes:
        outputs = [model.predict_proba(dask_X), model.decision_function(dask_X), model.predict(dask_X)]
    assert computes.count == 0
    for lazy, expected in zip(outputs, [model.predict_proba(X), model.decision_function(X), model.predict(X)]):
        assert isinstance(lazy, da.Array) and lazy.shape == (1, 1200) and lazy.chunks[1] == dask_X.chunks[1]
        np.testing.assert_allclose(lazy.compute(), expected, rtol=1e-14, atol=1e-300)
    assert model.cost(dask_X, da.from_array(Y, chunks=(1, 100))) == pytest.approx(model.cost(X, Y), rel=1e-14)
    assert model.accuracy(dask_X, Y) == model.accuracy(X, Y)


def test_bad_values_are_found_in_the_first_compute_and_leave_the_model_unfitted():
    X, Y = planar()
    with_nan = X.copy()
    with_nan[2, 777] = np.nan
    two = Y.copy()
    two[0, 5] = 2
    nan_label = Y.copy()
    nan_label[0, 9] = np.nan
    cases = [
        (with_nan, Y, "X must be finite; it contains NaN or Inf"),
        (X, two, r"Y must hold binary labels: every entry 0 or 1; got 1 entries with other values"),
        (X, nan_label, "Y must be finite; it contains NaN or Inf"),
        (X, Y + 1e-9, r"Y must hold binary labels: every entry 0 or 1; got 1200 entries"),
    ]
    for data, labels, message in cases:
        model = network()
        for iterations in (10, 0):  # a fit of 0 iterations checks the data too
            with Computes() as computes, pytest.raises(ValueError, match=message):
                model.fit(da.from_array(data, chunks=(4, 100)), da.from_array(labels, chunks=(1, 100)), 0.3, iterations)
            assert computes.count == 1 + 1  # the labels persisted, then the first iteration
            with pytest.raises(arraynet.NotFittedError):
                model.get_parameters()
    scaled = network(standardize=True)  # a scaling learned on data found bad is not kept either
    with pytest.raises(ValueError, match="Y must hold binary labels"):
        scaled.fit(da.from_array(X * 100 + 7, chunks=(4, 100)), two, 0.3, 10)
    assert scaled._scaling is None
    scaled.fit(da.from_array(X, chunks=(4, 100)), Y, 0.3, 10)
    reference = network(standardize=True)
    reference.fit(X, Y, 0.3, 10)
    assert_parameters_equal(scaled, reference)
    trained = network()
    trained.fit(X, Y, 0.3, 5)
    with pytest.raises(ValueError, match="X must be finite"):
        trained.predict(da.from_array(with_nan, chunks=(4, 100))).compute()
    with pytest.raises(ValueError, match="Y must hold binary labels"):
        trained.cost(da.from_array(X, chunks=(4, 100)), da.from_array(two, chunks=(1, 100)))


def test_metadata_errors_come_before_any_compute():
    X, Y = planar()
    unknown = da.from_array(X, chunks=(4, 100))
    unknown = unknown[:, unknown[0] > -10]  # boolean indexing: chunk sizes unknown
    with Computes() as computes:
        with pytest.raises(ValueError, match=r"X is a Dask array of unknown chunk sizes \(shape \(4, nan\)\); call X.compute_chunk_sizes\(\)"):
            network().fit(unknown, Y, 0.3, 5)
        with pytest.raises(ValueError, match=r"Y must have shape \(1, m\) = \(1, 1200\)"):
            network().fit(da.from_array(X, chunks=(4, 100)), da.from_array(Y[:, :-1], chunks=(1, 100)), 0.3, 5)
        with pytest.raises(ValueError, match="X must have n_x = 4 rows"):
            network().fit(da.from_array(X[:3], chunks=(3, 100)), Y, 0.3, 5)
        with pytest.raises(TypeError, match="Y is a Dask array but X is not"):
            network().fit(X, da.from_array(Y, chunks=(1, 100)), 0.3, 5)
        with pytest.raises(TypeError, match="X must hold real numbers"):
            network().fit(da.from_array(X.astype(str), chunks=(4, 100)), Y, 0.3, 5)
        with pytest.raises(TypeError, match="X has dtype float32 but the model is float64"):
            trained = network()
            trained.set_parameters(reference_parameters())
            trained.fit(da.from_array(X.astype(np.float32), chunks=(4, 100)), Y, 0.3, 5)
    assert computes.count == 0


def reference_parameters():
    model = network()
    model.fit(*planar(m=50), 0.1, 1)
    return model.get_parameters()


def test_x_chunked_along_features_is_joined_with_a_warning():
    X, Y = planar()
    reference = network()
    reference.fit(X, Y, 0.3, 20)
    model = network()
    with pytest.warns(UserWarning, match=r"chunked along n_x too \(2 chunks of rows\).*X.rechunk\(\{0: -1\}\)"):
        model.fit(da.from_array(X, chunks=(2, 300)), Y, 0.3, 20)
    assert_parameters_equal(model, reference)


def test_divergence_and_a_callback_stop_behave_as_on_numpy():
    X, Y = planar()
    dask_X, dask_Y = da.from_array(X * 1e3, chunks=(4, 100)), da.from_array(Y, chunks=(1, 100))
    model, reference = (arraynet.NeuralNetwork([4, 8, 1], seed=0) for _ in range(2))
    with pytest.raises(arraynet.DivergenceError) as found:
        model.fit(dask_X, dask_Y, 1e10, 200, record_every=5)
    with pytest.raises(arraynet.DivergenceError) as expected:
        reference.fit(X * 1e3, Y, 1e10, 200, record_every=5)
    assert found.value.iteration == 15
    assert found.value.iteration == expected.value.iteration
    assert found.value.history.iterations == expected.value.history.iterations
    assert all(np.all(np.isfinite(value)) for value in model.get_parameters().values())
    assert_parameters_equal(model, reference)

    seen = []
    model = network()
    history = model.fit(da.from_array(X, chunks=(4, 100)), dask_Y, 0.3, 100, record_every=10,
                        callback=lambda i, cost, m: seen.append(i) or i == 30)
    assert seen == [0, 10, 20, 30] and history.stopped_early and history.iterations_run == 30
    reference = network()
    reference.fit(X, Y, 0.3, 31, record_every=10)  # iteration 30's parameters are those before its update
    stopped = network()
    stopped.fit(X, Y, 0.3, 30, record_every=10)
    assert_parameters_equal(model, stopped)


def test_a_dask_trained_model_saves_and_loads_like_any(tmp_path):
    X, Y = planar()
    model = network(standardize=True)
    model.fit(da.from_array(X * 5 + 1, chunks=(4, 100)), da.from_array(Y, chunks=(1, 100)), 0.3, 20)
    loaded = arraynet.load(model.save(tmp_path / "model.npz"))
    np.testing.assert_array_equal(loaded.predict_proba(X * 5 + 1), model.predict_proba(X * 5 + 1))


def test_the_step_applies_to_dask_arrays_only_and_whatever_fast_paths_says():
    X, Y = planar()
    with pytest.raises(arraynet.steps.NotApplicable, match="X is not a Dask array but ndarray"):
        DaskStep.create(network()._kernel(), reference_parameters(), X, Y, 0.1, np)
    history = network().fit(da.from_array(X, chunks=(4, 100)), Y, 0.3, 3, fast_paths=False)
    assert history.step == "dask"


def test_asarray_keeps_a_dask_array_lazy():
    X, Y = planar()
    dask_X = da.from_array(X, chunks=(4, 100))
    with Computes() as computes:
        single = arraynet.asarray(dask_X, "numpy", dtype="float32")
        same = arraynet.asarray(dask_X, "numpy")
    assert computes.count == 0 and same is dask_X
    assert isinstance(single, da.Array) and single.dtype == np.float32 and single.chunks == dask_X.chunks
    np.testing.assert_array_equal(single.compute(), X.astype(np.float32))
    model = network()
    model.fit(single, Y.astype(np.float32), 0.3, 5)
    assert model.get_parameters()["W1"].dtype == np.float32


def test_a_dask_array_is_not_moved_to_torch(needs):
    needs("torch")
    dask_X = da.from_array(planar()[0], chunks=(4, 100))
    with pytest.raises(TypeError, match="a Dask array's chunks can be NumPy or CuPy arrays, not torch"):
        arraynet.asarray(dask_X, "torch")


def test_cupy_chunks_train_on_the_gpu_with_cupy_parameters():
    reason = arraynet.backends._unusable_reason("cupy")
    if reason is not None:
        pytest.skip(f"needs a GPU: CuPy is not usable ({reason})")
    X, Y = planar()
    reference = network()
    reference.fit(X, Y, 0.3, 40, record_every=10)
    on_gpu = [arraynet.asarray(da.from_array(a, chunks=(a.shape[0], 300)), "cupy") for a in (X, Y)]
    assert arraynet.backends.backend_name(arraynet.backends.compute_namespace(on_gpu[0])) == "cupy"
    model = network()
    history = model.fit(*on_gpu, 0.3, 40, record_every=10)
    assert history.step == "dask" and history.backend == "cupy"
    for key, value in reference.get_parameters().items():
        np.testing.assert_allclose(arraynet.backends.to_numpy(model.get_parameters()[key]), value, rtol=1e-10, atol=1e-14)


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


def test_large_parameters_travel_as_inputs_of_their_own_with_the_same_numbers(cluster, monkeypatch):
    X, Y = planar(m=4000)
    dask_X, dask_Y = cluster.persist([da.from_array(X, chunks=(4, 500)), da.from_array(Y, chunks=(1, 500))])
    with dask.config.set(scheduler="distributed"):
        inline = network()
        inline.fit(dask_X, dask_Y, 0.3, 10)
        monkeypatch.setattr(arraynet.steps.distributed, "_INLINE_BYTES", 0)
        separate = network()
        separate.fit(dask_X, dask_Y, 0.3, 10)
    assert_parameters_equal(separate, inline, tolerance=0)


def test_training_and_prediction_on_a_local_cluster_of_two_workers(cluster):
    X, Y = planar(m=4000)
    reference = network()
    reference.fit(X, Y, 0.3, 30, record_every=10)
    dask_X, dask_Y = cluster.persist([da.from_array(X, chunks=(4, 500)), da.from_array(Y, chunks=(1, 500))])
    distributed.wait([dask_X, dask_Y])
    assert len({w for w in cluster.who_has(dask_X).values() for w in w}) == 2  # the data is on both workers
    with dask.config.set(scheduler="distributed"):
        model = network()
        history = model.fit(dask_X, dask_Y, 0.3, 30, record_every=10)
        assert history.step == "dask"
        assert_parameters_equal(model, reference)
        np.testing.assert_allclose(model.predict_proba(dask_X).compute(), reference.predict_proba(X), rtol=1e-12)
        assert model.accuracy(dask_X, dask_Y) == reference.accuracy(X, Y)


def test_a_worker_killed_mid_fit_is_replaced_or_the_fit_says_why(cluster):
    X, Y = planar(m=4000)
    reference = network()
    reference.fit(X, Y, 0.3, 40, record_every=10)
    dask_X, dask_Y = cluster.persist([da.from_array(X, chunks=(4, 500)), da.from_array(Y, chunks=(1, 500))])
    pid = next(iter(cluster.run(os.getpid).values()))  # one worker process's

    def kill_one(i, cost, model):
        if i == 20:
            os.kill(pid, signal.SIGKILL)

    outcome = {}

    def run():
        try:
            with dask.config.set(scheduler="distributed"):
                model = network()
                model.fit(dask_X, dask_Y, 0.3, 40, record_every=10, callback=kill_one)
                outcome["model"] = model
        except Exception as exc:  # noqa: BLE001 - the test says which
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive(), "the fit hung after a worker was killed"
    if "model" in outcome:
        assert_parameters_equal(outcome["model"], reference)
    else:
        message = str(outcome["error"])
        assert "worker" in message.lower(), message
    cluster.wait_for_workers(2, timeout=60)  # the nanny restarts it, for the tests after this one


def test_zero_iterations_check_the_data_and_keep_the_starting_parameters():
    X, Y = planar()
    with Computes() as computes:
        model = network()
        history = model.fit(da.from_array(X, chunks=(4, 100)), Y, 0.3, 0)
    assert computes.count == 2 and history.iterations == []
    reference = network()
    reference.fit(X, Y, 0.3, 0)
    assert_parameters_equal(model, reference, tolerance=0)


def test_chunks_without_examples_are_left_out():
    X, Y = planar()
    X[0, 100:200] = -50
    dask_X, dask_Y = da.from_array(X, chunks=(4, 100)), da.from_array(Y, chunks=(1, 100))
    keep = dask_X[0] > -40
    kept_X, kept_Y = dask_X[:, keep], dask_Y[:, keep]
    kept_X.compute_chunk_sizes()
    kept_Y.compute_chunk_sizes()
    assert 0 in kept_X.chunks[1]
    reference = network()
    reference.fit(X[:, X[0] > -40], Y[:, X[0] > -40], 0.3, 20)
    model = network()
    model.fit(kept_X, kept_Y, 0.3, 20)
    assert_parameters_equal(model, reference)
    logistic = arraynet.LogisticRegression()
    logistic.fit(kept_X, kept_Y, 0.1, 5)


def test_what_cannot_train_on_dask_data_says_so():
    X, Y = planar()
    dask_X = da.from_array(X, chunks=(4, 100))
    masked = da.ma.masked_array(dask_X, mask=dask_X > 2)
    with pytest.raises(TypeError, match="X is a NumPy masked array"):
        network().fit(masked, Y, 0.3, 5)
    with pytest.raises(TypeError, match=r"parameters\['W1'\] is a Dask array; a model's parameters live in memory .*compute\(\)"):
        network().set_parameters({key: da.from_array(value) for key, value in reference_parameters().items()})
    big = da.from_array(np.full((4, 1200), 1e39), chunks=(4, 100))
    with pytest.raises(ValueError, match="beyond the range of float32"):
        arraynet.asarray(big, "numpy", dtype="float32").compute()


def test_a_torch_model_does_not_predict_on_dask_data(needs):
    needs("torch")
    X, Y = planar()
    on_torch = network()
    on_torch.fit(arraynet.asarray(X, "torch"), arraynet.asarray(Y, "torch"), 0.3, 2)
    with pytest.raises(TypeError, match=r"X is a Dask array of numpy chunks but the model is torch: .*X.compute\(\)"):
        on_torch.predict(da.from_array(X, chunks=(4, 100)))


def test_the_functional_api_takes_dask_arrays_as_one_library():
    X, Y = planar()
    parameters = reference_parameters()
    dask_X, dask_Y = da.from_array(X, chunks=(4, 100)), da.from_array(Y, chunks=(1, 100))
    AL, _ = arraynet.forward({key: da.from_array(value) for key, value in parameters.items()}, dask_X, ["relu", "tanh", "sigmoid"])
    expected, _ = arraynet.forward(parameters, X, ["relu", "tanh", "sigmoid"])
    np.testing.assert_allclose(AL.compute(), expected, rtol=1e-14)
    assert float(arraynet.compute_cost(AL, dask_Y)) == pytest.approx(float(arraynet.compute_cost(expected, Y)), rel=1e-14)


def mislabelled_dtype(X, chunks=(4, 300)):
    """``X`` as float32 Dask chunks that are really float64: a ``map_blocks`` that declares float32."""
    return da.from_array(X.astype(np.float32), chunks=chunks).map_blocks(lambda b: b.astype(np.float64), dtype=np.float32)


@pytest.mark.parametrize("epochs", [False, True], ids=["DaskStep", "DaskEpochStep"])
def test_chunks_of_another_dtype_than_declared_train_in_the_declared_one(epochs):
    X, Y = planar()
    kwargs = {"optimizer": "adam", "batch_size": 100, "epochs": 3, "shuffle": False} if epochs else {"num_iterations": 5}
    model = network()
    model.fit(mislabelled_dtype(X), da.from_array(Y, chunks=(1, 300)), 0.1, **kwargs)
    assert {value.dtype for value in model.get_parameters().values()} == {np.dtype(np.float32)}
    reference = network()
    reference.fit(X.astype(np.float32), Y.astype(np.float32), 0.1, **kwargs)
    assert_parameters_equal(model, reference, tolerance=1e-5)  # float32, summed in another order
    predictions = model.predict(mislabelled_dtype(X)).compute()
    assert predictions.dtype == np.float32
    np.testing.assert_array_equal(predictions, reference.predict(X.astype(np.float32)))


def zero_the_first_weights_at(iteration):
    def callback(i, cost, model):
        if i == iteration:
            model.get_parameters()["W1"][...] = 0

    return callback


@pytest.mark.parametrize("epochs", [False, True], ids=["DaskStep", "DaskEpochStep"])
def test_a_callback_that_edits_the_weights_in_place_does_as_on_numpy(epochs):
    X, Y = planar()
    kwargs = {"optimizer": "momentum", "batch_size": 100, "epochs": 6, "shuffle": False} if epochs else {"num_iterations": 12}
    reference = network()
    reference.fit(X, Y, 0.3, record_every=2, callback=zero_the_first_weights_at(4), fast_paths=False, **kwargs)
    model = network()
    dask_X, dask_Y = da.from_array(X, chunks=(4, 300)), da.from_array(Y, chunks=(1, 300))
    model.fit(dask_X, dask_Y, 0.3, record_every=2, callback=zero_the_first_weights_at(4), **kwargs)
    assert_parameters_equal(model, reference)
