"""Data past memory: Zarr stores and HDF5 files read as Dask arrays (``arraynet.io.chunked``), the
``--dask`` command line, and a training on a Zarr store larger than its worker's memory limit."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

import arraynet
from arraynet.cli import main
from arraynet.io import chunked

from .test_cli import NETWORK, X_MOONS, Y_MOONS, arraynet_cli, percent
from .test_dask import Computes

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
zarr = pytest.importorskip("zarr")
h5py = pytest.importorskip("h5py")
distributed = pytest.importorskip("distributed")


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def write_zarr(path, X, Y, chunk=50, x_key="X", y_key="Y"):
    group = zarr.open_group(str(path), mode="w")
    group.create_array(x_key, data=X, chunks=(X.shape[0], chunk))
    if Y is not None:
        group.create_array(y_key, data=Y, chunks=(1, chunk) if Y.ndim == 2 else (chunk,))
    return path


def write_images(path, m=30, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(m, 4, 4, 3), dtype=np.uint8)
    labels = rng.integers(0, 2, size=(1, m))
    with h5py.File(path, "w") as file:
        file["train_set_x"] = images
        file["train_set_y"] = labels
    return path


def test_a_zarr_store_reads_lazily_as_the_npz_layout(tmp_path):
    path = write_zarr(tmp_path / "moons.zarr", X_MOONS, Y_MOONS[0], chunk=64)
    X, Y = arraynet.load_zarr(path)
    assert isinstance(X, da.Array) and X.shape == (2, 200) and X.chunks == ((2,), (64, 64, 64, 8))
    assert isinstance(Y, da.Array) and Y.shape == (1, 200) and Y.chunks[1] == X.chunks[1]
    np.testing.assert_array_equal(X.compute(), X_MOONS)
    np.testing.assert_array_equal(Y.compute(), Y_MOONS)
    rechunked, _ = arraynet.load_data(path, chunks=100)
    assert rechunked.chunks == ((2,), (100, 100))
    integers = write_zarr(tmp_path / "int.zarr", np.arange(12).reshape(3, 4), None)
    X, none = arraynet.load_zarr(integers, y_key=None)
    assert none is None and X.dtype == np.float64


def test_zarr_problems_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="Zarr store .*nothing.zarr does not exist"):
        arraynet.load_zarr(tmp_path / "nothing.zarr")
    path = write_zarr(tmp_path / "a.zarr", X_MOONS, Y_MOONS)
    with pytest.raises(ValueError, match=r"has no array 'labels'; it holds 'X', 'Y'"):
        arraynet.load_zarr(path, y_key="labels")
    wrong = write_zarr(tmp_path / "b.zarr", X_MOONS, Y_MOONS[:, :-1], chunk=10)
    with pytest.raises(ValueError, match=r"'Y' in .* must have shape \(1, m\) or \(m,\) with m = 200 examples; got shape \(1, 199\)"):
        arraynet.load_zarr(wrong)
    (tmp_path / "plain.zarr").mkdir()
    with pytest.raises(ValueError, match="is not a readable Zarr store"):
        arraynet.load_zarr(tmp_path / "plain.zarr")
    with pytest.raises(ValueError, match="chunks must be a number of examples per chunk"):
        arraynet.load_zarr(path, chunks=0)


def test_hdf5_images_read_chunk_by_chunk_equal_the_whole_read(tmp_path):
    path = write_images(tmp_path / "images.h5")
    whole_X, whole_Y = arraynet.load_h5(path)
    X, Y = arraynet.load_data(path, chunks=8)
    assert isinstance(X, da.Array) and X.chunks == ((48,), (8, 8, 8, 6))
    np.testing.assert_array_equal(X.compute(), whole_X)
    np.testing.assert_array_equal(Y.compute(), whole_Y)
    import pickle

    pickle.loads(pickle.dumps(X))  # what a cluster's worker receives: the file's path, not an open file
    with h5py.File(tmp_path / "bad.h5", "w") as file:
        file["train_set_x"] = np.full((4, 2, 2), 300, dtype=np.int16)
        file["train_set_y"] = np.zeros(4)
    X, _ = chunked.load_h5_chunked(tmp_path / "bad.h5")
    with pytest.raises(ValueError, match=r"holds integer pixels outside \[0, 255\] \(from 300 to 300\)"):
        X.compute()
    with pytest.raises(ValueError, match=r"it has no data set 'test_set_x'; it holds 'train_set_x', 'train_set_y'"):
        arraynet.load_data(path, split="test", chunks=8)


def test_a_chunked_hdf5_file_is_read_by_its_absolute_path(tmp_path, monkeypatch):
    write_images(tmp_path / "images.h5")
    monkeypatch.chdir(tmp_path)
    X, _ = arraynet.load_data("images.h5", chunks=8)
    monkeypatch.chdir(tmp_path.parent)  # a worker elsewhere, or the user's os.chdir
    np.testing.assert_array_equal(X.compute(), arraynet.load_h5(tmp_path / "images.h5")[0])


def test_a_zarr_store_of_examples_as_rows_says_so(tmp_path):
    path = write_zarr(tmp_path / "rows.zarr", X_MOONS.T.copy(), Y_MOONS, chunk=20)
    with pytest.raises(ValueError, match=r"with m = 2 examples; got shape \(1, 200\) \(X holds one example per row\?"):
        arraynet.load_zarr(path)


def test_predict_and_evaluate_read_a_zarr_store(tmp_path):
    store = write_zarr(tmp_path / "moons.zarr", X_MOONS, Y_MOONS, chunk=64)
    arraynet_cli("train", store, *NETWORK, "-o", tmp_path / "m.npz")
    predicted = arraynet_cli("predict", tmp_path / "m.npz", store, "-o", tmp_path / "p.npz")
    assert predicted.returncode == 0
    expected = arraynet.load(tmp_path / "m.npz").predict_proba(X_MOONS)
    np.testing.assert_allclose(np.load(tmp_path / "p.npz")["probabilities"], expected, rtol=1e-12)
    evaluated = arraynet_cli("evaluate", tmp_path / "m.npz", store)
    assert "accuracy" in evaluated.stdout


def test_a_model_trains_the_same_on_a_zarr_store_as_on_its_arrays(tmp_path):
    X, Y = arraynet.load_zarr(write_zarr(tmp_path / "moons.zarr", X_MOONS, Y_MOONS, chunk=32))
    model, reference = (arraynet.NeuralNetwork([2, 6, 1], seed=4) for _ in range(2))
    model.fit(X, Y, 1.0, 100)
    reference.fit(X_MOONS, Y_MOONS, 1.0, 100)
    for key, value in reference.get_parameters().items():
        np.testing.assert_allclose(model.get_parameters()[key], value, rtol=1e-12, atol=1e-15)


def test_train_on_a_zarr_store_and_with_dask_from_the_command_line(tmp_path):
    store = write_zarr(tmp_path / "moons.zarr", X_MOONS, Y_MOONS, chunk=64)
    np.savez(tmp_path / "moons.npz", X=X_MOONS, Y=Y_MOONS)
    plain = arraynet_cli("train", tmp_path / "moons.npz", *NETWORK, "-o", tmp_path / "plain.npz")
    on_zarr = arraynet_cli("train", store, *NETWORK, "-o", tmp_path / "zarr.npz", "--plot", tmp_path / "plots")
    assert "chunks on Dask threads" in on_zarr.stdout.splitlines()[0]
    assert percent(on_zarr.stdout, "train accuracy") == percent(plain.stdout, "train accuracy")
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["cost.png"]  # no scatter of data past memory
    cluster = arraynet_cli("train", tmp_path / "moons.npz", "--dask", "local:2", "--chunks", "50", *NETWORK, "-o", tmp_path / "c.npz")
    assert "chunks on Dask cluster of 2 local worker processes" in cluster.stdout.splitlines()[0]
    costs = [line for line in plain.stdout.splitlines() if line.startswith("cost after")]
    assert [line for line in cluster.stdout.splitlines() if line.startswith("cost after")] == costs
    for path in ("zarr.npz", "c.npz"):
        trained = arraynet.load(tmp_path / path)
        np.testing.assert_allclose(trained.predict_proba(X_MOONS), arraynet.load(tmp_path / "plain.npz").predict_proba(X_MOONS), rtol=1e-10)


def test_a_sweep_runs_on_dask_with_the_costs_it_has_in_memory(tmp_path):
    np.savez(tmp_path / "moons.npz", X=X_MOONS, Y=Y_MOONS)
    sweep = ["sweep", tmp_path / "moons.npz", "--hidden-sizes", "2,5", "--activation", "tanh", "--learning-rate", "1.0", "--iterations", "60"]
    plain, on_dask = arraynet_cli(*sweep), arraynet_cli(*sweep, "--dask", "--chunks", "64")

    def rows(output):  # each size's final cost and train accuracy, the seconds left out
        return [line.split()[:3] for line in output.splitlines()[1:]]

    assert len(rows(plain.stdout)) == 2 and rows(on_dask.stdout) == rows(plain.stdout)
    with Computes() as computes:  # in process: the runs compute on Dask, one compute per iteration
        assert main([str(part) for part in sweep] + ["--dask", "--quiet"]) == 0
    assert computes.count >= 2 * 60


def test_dask_usage_errors_come_before_any_data(tmp_path):
    np.savez(tmp_path / "moons.npz", X=X_MOONS, Y=Y_MOONS)
    for command in (["train"], ["sweep", "--hidden-sizes", "2,3"]):
        for args, message in [
            (["--chunks", "10"], "--chunks: only data read through Dask"),
            (["--dask", "somewhere"], "expected threads, local:N"),
            (["--dask", "local:0"], "local:N starts N worker processes on this machine"),
            (["--dask", "--backend", "torch"], "Dask's chunks are NumPy or CuPy arrays"),
            (["--dask", "--chunks", "0"], "--chunks: expected an integer >= 1"),
        ]:
            result = arraynet_cli(command[0], tmp_path / "missing.npz", *command[1:], *args, check=False)
            assert result.returncode == 2 and message in result.stderr, (command, args, result.stderr)
    unreachable = arraynet_cli("train", tmp_path / "moons.npz", "--dask", "tcp://127.0.0.1:9", check=False)
    assert unreachable.returncode == 1
    assert "arraynet: error: --dask: cannot reach a Dask scheduler at tcp://127.0.0.1:9" in unreachable.stderr
    with distributed.LocalCluster(n_workers=0, dashboard_address=":0") as empty:
        idle = arraynet_cli("train", tmp_path / "moons.npz", "--dask", empty.scheduler_address, check=False)
    assert idle.returncode == 1 and f"the Dask scheduler at {empty.scheduler_address} has no workers" in idle.stderr


@pytest.mark.parametrize(
    "training",
    [{"learning_rate": 0.5, "num_iterations": 3}, {"learning_rate": 0.01, "optimizer": "adam", "batch_size": 50_000, "epochs": 2, "shuffle": False}],
    ids=["iterations", "mini-batch epochs"],
)
def test_a_zarr_store_larger_than_its_workers_memory_trains_reading_it_every_iteration(tmp_path, training):
    """One worker of 200 MiB, a store of 240 MB: each iteration (or epoch of mini-batches) reads every
    chunk from disk, and the worker keeps none of them."""
    m, n_x = 3_000_000, 20
    rng = np.random.default_rng(0)
    group = zarr.open_group(str(tmp_path / "big.zarr"), mode="w")
    X_disk = group.create_array("X", shape=(n_x, m), chunks=(n_x, 100_000), dtype=np.float32)
    Y_disk = group.create_array("Y", shape=(1, m), chunks=(1, 100_000), dtype=np.float32)
    for start in range(0, m, 500_000):
        block = rng.standard_normal((n_x, 500_000), dtype=np.float32)
        X_disk[:, start : start + 500_000] = block
        Y_disk[:, start : start + 500_000] = (block[:1] + block[1:2] > 0).astype(np.float32)
    assert X_disk.nbytes > 200 * 2**20
    X, Y = arraynet.load_zarr(tmp_path / "big.zarr")
    outcome = {}

    def train():
        try:
            run()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = exc

    def run():
        with distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, memory_limit="200MiB", dashboard_address=":0"
        ) as cluster, distributed.Client(cluster) as client, dask.config.set(scheduler="distributed"):
            model = arraynet.NeuralNetwork([n_x, 8, 1], seed=0)
            outcome["history"] = model.fit(X, Y, record_every=1, **training)
            outcome["held"] = client.run(lambda dask_worker: list(dask_worker.data))
            outcome["model"] = model

    thread = threading.Thread(target=train, daemon=True)
    thread.start()
    thread.join(timeout=240)
    assert not thread.is_alive(), "the training hung"
    assert "error" not in outcome, outcome.get("error")
    (held,) = outcome["held"].values()
    names = {str(key[0]) for key in held if not str(key[0]).startswith(("arraynet-iteration-", "arraynet-epoch-"))}
    assert names <= {Y.name} and X.name not in names, names  # the labels, persisted once; no chunk of X kept
    reference = arraynet.NeuralNetwork([n_x, 8, 1], seed=0)
    expected = reference.fit(np.asarray(X_disk[:]), np.asarray(Y_disk[:]), record_every=1, **training)
    np.testing.assert_allclose(outcome["history"].costs, expected.costs, rtol=1e-5)


def test_the_command_lines_local_cluster_starts_workers_without_the_malloc_trim_setting(monkeypatch):
    """distributed's nanny sets MALLOC_TRIM_THRESHOLD_=65536, measured slower (docs/guides/dask.md):
    --dask local:N starts its workers without it, even after an earlier cluster left it behind."""
    from arraynet.cli.scheduling import dask_scheduler

    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    with dask_scheduler("local:1") as where:
        assert where == "Dask cluster of 1 local worker process"
        found = distributed.get_client().run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert list(found.values()) == [None]


def test_bad_labels_in_a_zarr_store_or_an_hdf5_file_are_named_with_the_file_when_read(tmp_path):
    """Chunked labels are checked where each chunk is read: the error names the array and the
    file, as the eager loaders' does; loading reads no values. A label of 2 is a class index, which a
    binary network refuses as it refuses one in memory."""
    Y = Y_MOONS[0].copy()
    Y[150] = 2.5
    store = write_zarr(tmp_path / "bad.zarr", X_MOONS, Y, chunk=64)
    X, labels = arraynet.load_zarr(store)  # lazy: nothing read yet
    with pytest.raises(ValueError, match=r"'Y' in .*bad\.zarr must be class labels, whole numbers >= 0 \(0 and 1 for two classes\); got also 2\.5$"):
        arraynet.NeuralNetwork([2, 3, 1], seed=0).fit(X, labels, num_iterations=2)
    Y[150] = 2.0
    X, labels = arraynet.load_zarr(write_zarr(tmp_path / "three.zarr", X_MOONS, Y, chunk=64))
    with pytest.raises(ValueError, match=r"Y must hold binary labels"):
        arraynet.NeuralNetwork([2, 3, 1], seed=0).fit(X, labels, num_iterations=2)
    images = write_images(tmp_path / "bad.h5", m=30)
    with h5py.File(images, "r+") as file:
        file["train_set_y"][0, 7] = -3
    X, labels = arraynet.load_data(images, chunks=10)
    with pytest.raises(ValueError, match=r"'train_set_y' in .*bad\.h5 must be class labels, whole numbers >= 0 .*; got also -3$"):
        arraynet.NeuralNetwork([48, 3, 1], seed=0).fit(X, labels, num_iterations=2)
    NaN = Y.copy()
    NaN[150] = np.nan
    X, labels = arraynet.load_zarr(write_zarr(tmp_path / "nan.zarr", X_MOONS, NaN, chunk=64))
    with pytest.raises(ValueError, match=r"'Y' in .*nan\.zarr must be finite; it contains NaN or Inf"):
        arraynet.NeuralNetwork([2, 3, 1], seed=0).fit(X, labels, num_iterations=2)


def test_class_labels_in_a_zarr_store_train_a_softmax_network_as_the_same_npz_does(tmp_path, capsys):
    """Labels 1, 2, 3 (whole numbers): ``return_classes`` reads them once and numbers the classes 0
    to 2, as the eager loaders do; ``arraynet train`` on the store picks a softmax output and saves
    the classes' names, and trains as on the .npz."""
    from arraynet.cli import main

    rng = np.random.default_rng(0)
    labels = rng.integers(1, 4, 300)
    X = (np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0], [3.0, 3.0]])[labels] + rng.normal(0, 0.5, (300, 2))).T
    store = write_zarr(tmp_path / "three.zarr", X, labels.reshape(1, -1).astype(np.int64), chunk=100)
    np.savez(tmp_path / "three.npz", X=X, Y=labels.reshape(1, -1))
    _, Y_dask, classes = arraynet.load_data(store, return_classes=True)
    assert classes == ["1", "2", "3"]
    _, Y_host, host_classes = arraynet.load_data(tmp_path / "three.npz", return_classes=True)
    assert host_classes == classes
    np.testing.assert_array_equal(Y_dask.compute(), Y_host)
    assert arraynet.load_zarr(store)[1].compute().max() == 3  # without return_classes: as they are
    options = ["--hidden", "6", "--optimizer", "adam", "--batch-size", "50", "--epochs", "5", "--learning-rate", "0.05", "--no-shuffle"]
    for data, model in (("three.zarr", "z.npz"), ("three.npz", "n.npz")):
        assert main(["train", str(tmp_path / data), *options, "-o", str(tmp_path / model)]) == 0
    out = capsys.readouterr().out
    assert out.count("network 2-6-3 (relu, softmax)") == 2 and out.count("3 classes: 1, 2, 3") == 2
    on_zarr, in_memory = arraynet.load(tmp_path / "z.npz"), arraynet.load(tmp_path / "n.npz")
    assert on_zarr.class_names == ["1", "2", "3"]
    np.testing.assert_allclose(on_zarr.predict_proba(X), in_memory.predict_proba(X), rtol=1e-10)


# -- hostile stores ---------------------------------------------------------------------------------
def test_a_store_of_tiny_chunks_makes_at_most_a_thousand_tasks_and_says_so(tmp_path):
    group = zarr.open_group(str(tmp_path / "tiny.zarr"), mode="w")
    group.create_array("X", shape=(10, 200_000), dtype="float64", chunks=(1, 1), fill_value=0.5)  # 1.3 KB on disk
    group.create_array("Y", shape=(200_000,), dtype="float64", chunks=(1,), fill_value=1.0)
    with pytest.warns(UserWarning, match=r"'X' in .*tiny\.zarr is stored in chunks of shape \(1, 1\), 200000 along m: each task reads 200 examples"):
        X, Y = arraynet.load_zarr(tmp_path / "tiny.zarr")
    assert X.numblocks == (1, 1000) and Y.numblocks == (1, 1000)
    np.testing.assert_array_equal(X.blocks[0, 3].compute(), np.full((10, 200), 0.5))


def test_a_damaged_store_is_one_error_naming_it(tmp_path):
    path = write_zarr(tmp_path / "moons.zarr", X_MOONS, Y_MOONS[0], chunk=50)
    chunk = next(p for p in (path / "X").rglob("*") if p.is_file() and p.name != "zarr.json")
    chunk.write_bytes(b"not a zstd frame" * 4)
    X, _ = arraynet.load_zarr(path)
    with pytest.raises(ValueError, match=r"Zarr store .*moons\.zarr: 'X' cannot be read \(.*\); the store is damaged"):
        X.compute()
    (path / "X" / "zarr.json").write_bytes(b"\xff\xfe{ broken")
    with pytest.raises(ValueError, match=r"moons\.zarr is not a readable Zarr store"):
        arraynet.load_zarr(path)
