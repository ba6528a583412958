"""Saved models: model.save(path) and arraynet.load(path, backend=..., device=...).

One .npz with the parameters and a JSON header, written atomically, read without pickle; a model
saved from one backend loads on any other and predicts the same; every kind of bad file gets a
ModelFileError (a ValueError) naming the file and the problem.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile

import numpy as np
import pytest

import arraynet
from arraynet.backends import backend_name, to_numpy
from arraynet.io import serialization

from .conftest import assert_same_place

X_FLOWER, Y_FLOWER = arraynet.load_flower()


def trained_network(X=X_FLOWER, Y=Y_FLOWER):
    model = arraynet.NeuralNetwork([2, 5, 3, 1], activations=[arraynet.LeakyReLU(0.2), "tanh", "sigmoid"], init="xavier", seed=7)
    model.fit(X, Y, learning_rate=0.5, num_iterations=200, record_every=100)
    return model


def trained_logistic(X=X_FLOWER, Y=Y_FLOWER):
    model = arraynet.LogisticRegression(seed=4)
    model.fit(X, Y, learning_rate=0.1, num_iterations=50)
    return model


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.npz"
    trained_network().save(path)
    return path


def rewrite(path, change_header=None, change_arrays=None):
    """Rewrite the model file at ``path`` with its header and arrays changed (a test's forgery)."""
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays.pop(serialization.HEADER_KEY).tobytes())
    if change_header:
        change_header(header)
    if change_arrays:
        change_arrays(arrays)
    raw = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, **{serialization.HEADER_KEY: raw}, **arrays)


# -- round trips -----------------------------------------------------------------------------------
@pytest.mark.parametrize("make_model", [trained_network, trained_logistic], ids=["network", "logistic"])
def test_a_model_saved_from_numpy_loads_on_every_backend_and_predicts_the_same(xp, device, to_xp, tmp_path, make_model):
    model = make_model()
    path = model.save(tmp_path / "model.npz")
    assert path == tmp_path / "model.npz"
    loaded = arraynet.load(path, backend=backend_name(xp), device=device)
    X = to_xp(X_FLOWER)
    proba = loaded.predict_proba(X)
    assert_same_place(proba, X)
    np.testing.assert_allclose(to_numpy(proba), model.predict_proba(X_FLOWER), rtol=1e-12)
    np.testing.assert_array_equal(to_numpy(loaded.predict(X)), model.predict(X_FLOWER))
    for key, value in model.get_parameters().items():
        np.testing.assert_array_equal(to_numpy(loaded.get_parameters()[key]), value)


@pytest.mark.parametrize("make_model", [trained_network, trained_logistic], ids=["network", "logistic"])
def test_a_model_trained_on_any_backend_loads_on_numpy_with_its_dtype(xp, to_xp, tmp_path, make_model):
    X, Y = to_xp(X_FLOWER, dtype="float32"), to_xp(Y_FLOWER, dtype="float32")
    model = make_model(X, Y)
    loaded = arraynet.load(model.save(tmp_path / "model.npz"), backend="numpy")
    X_host = X_FLOWER.astype(np.float32)
    proba = loaded.predict_proba(X_host)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba, to_numpy(model.predict_proba(X)), rtol=1e-5)
    assert loaded.accuracy(X_host, Y_FLOWER) == model.accuracy(X, Y)


def test_the_loaded_model_is_the_saved_one(saved):
    loaded = arraynet.load(saved, backend="numpy")
    assert isinstance(loaded, arraynet.NeuralNetwork)
    assert loaded.layer_dims == [2, 5, 3, 1]
    assert loaded.activations == [arraynet.LeakyReLU(0.2), arraynet.Tanh(), arraynet.Sigmoid()]
    assert (loaded.init, loaded.seed) == ("xavier", 7)
    # it trains on from where it was saved, like the original
    original = trained_network()
    np.testing.assert_allclose(
        loaded.fit(X_FLOWER, Y_FLOWER, learning_rate=0.5, num_iterations=20).costs,
        original.fit(X_FLOWER, Y_FLOWER, learning_rate=0.5, num_iterations=20).costs,
        rtol=1e-13,
    )


def test_the_file_holds_the_parameters_and_a_json_header(saved):
    with zipfile.ZipFile(saved) as archive:
        assert sorted(archive.namelist()) == sorted(
            ["__arraynet__.npy", "W1.npy", "b1.npy", "W2.npy", "b2.npy", "W3.npy", "b3.npy"]
        )
    with np.load(saved, allow_pickle=False) as archive:
        header = json.loads(archive["__arraynet__"].tobytes().decode("utf-8"))
    assert header == {
        "format": "arraynet.model",
        "format_version": 1,  # no input standardization: what arraynet 0.1.0 reads too
        "arraynet_version": arraynet.__version__,
        "model": "NeuralNetwork",
        "layer_dims": [2, 5, 3, 1],
        "activations": [{"name": "leaky_relu", "slope": 0.2}, {"name": "tanh"}, {"name": "sigmoid"}],
        "init": "xavier",
        "seed": 7,
        "dtype": "float64",
        "standardize": False,
        "input_scaling": False,
        "optimizer": {"name": "gd"},  # the training's counts: header keys that readers before 0.3.0 ignore
        "epochs": 200,
        "updates": 200,
    }


# -- writing whole or not at all ------------------------------------------------------------------
def test_saving_replaces_an_existing_file_and_leaves_no_temporary_file(saved):
    trained_logistic().save(saved)
    assert isinstance(arraynet.load(saved), arraynet.LogisticRegression)
    assert os.listdir(saved.parent) == ["model.npz"]


def test_a_crash_while_writing_leaves_the_old_file_whole_and_no_temporary_file(saved, monkeypatch):
    before = saved.read_bytes()

    def crash(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization.np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        trained_logistic().save(saved)
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == ["model.npz"]


def test_saving_an_unfitted_model_or_into_a_missing_directory_fails_clearly(tmp_path):
    with pytest.raises(arraynet.NotFittedError, match="no parameters yet"):
        arraynet.NeuralNetwork([2, 1]).save(tmp_path / "model.npz")
    with pytest.raises(FileNotFoundError, match="directory .*nowhere does not exist"):
        trained_logistic().save(tmp_path / "nowhere" / "model.npz")


def test_a_custom_activation_cannot_be_saved(tmp_path):
    class Cube(arraynet.Activation):
        name = "cube"

        def forward(self, Z, xp):
            return Z**3

        def backward(self, dA, Z, A, xp):
            return dA * 3 * Z**2

    model = arraynet.NeuralNetwork([2, 3, 1], activations=[Cube(), "sigmoid"], seed=0)
    model.fit(X_FLOWER, Y_FLOWER, learning_rate=0.01, num_iterations=2)
    with pytest.raises(ValueError, match="only the built-in activations"):
        model.save(tmp_path / "model.npz")
    assert os.listdir(tmp_path) == []


# -- bad files ------------------------------------------------------------------------------------
def test_a_missing_file(tmp_path):
    with pytest.raises(arraynet.ModelFileError, match=r"model file .*absent\.npz does not exist"):
        arraynet.load(tmp_path / "absent.npz")


@pytest.mark.parametrize("keep", [0, 30, 0.5, -22], ids=["empty", "30 bytes", "half", "no end record"])
def test_a_truncated_file(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(data[: int(len(data) * keep) if isinstance(keep, float) else keep])
    with pytest.raises(arraynet.ModelFileError, match=r"model\.npz .*(truncated|corrupted)"):
        arraynet.load(saved)


def test_a_corrupted_file(saved):
    data = bytearray(saved.read_bytes())
    start = data.index(b"\x93NUMPY", data.index(b"W1.npy")) + 200  # inside W1's numbers
    data[start : start + 8] = b"\xff" * 8
    saved.write_bytes(bytes(data))
    with pytest.raises(arraynet.ModelFileError, match=r"model\.npz is truncated or corrupted: .*CRC"):
        arraynet.load(saved)


def test_files_that_are_not_arraynet_models(tmp_path):
    for name in ("notes.npz", "data.csv"):  # e.g. the data given as the model, arguments swapped
        text = tmp_path / name
        text.write_text("W1,b1\n1,2\n")
        with pytest.raises(
            arraynet.ModelFileError,
            match=rf"^model file {re.escape(str(text))} is not a readable \.npz archive: it is another kind of "
            r"file, not an arraynet model \(a model file is written by arraynet train or model\.save\)$",
        ):
            arraynet.load(text)
    single = tmp_path / "array.npy"
    np.save(single, np.ones(3))
    with pytest.raises(arraynet.ModelFileError, match=r"array\.npy holds a single NumPy array"):
        arraynet.load(single)
    foreign = tmp_path / "data.npz"
    np.savez(foreign, X=np.ones((2, 3)), Y=np.zeros((1, 3)))
    with pytest.raises(arraynet.ModelFileError, match=r"data\.npz is not an arraynet model file: .*arrays X, Y"):
        arraynet.load(foreign)
    with pytest.raises(arraynet.ModelFileError, match="is not a file"):
        arraynet.load(tmp_path)  # a directory


def test_a_file_with_pickled_objects_is_refused_without_running_them(saved):
    ran = []

    class Payload:
        def __reduce__(self):
            return (ran.append, ("code ran",))

    with np.load(saved) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["W1"] = np.array([Payload()], dtype=object)
    np.savez(saved, **arrays)
    with pytest.raises(arraynet.ModelFileError, match=r"model\.npz is truncated or corrupted: .*pickle"):
        arraynet.load(saved)
    assert ran == []


def test_a_file_from_a_newer_arraynet(saved):
    rewrite(saved, lambda header: header.update(format_version=99, arraynet_version="9.0"))
    with pytest.raises(arraynet.ModelFileError, match=r"format version 99 \(written by arraynet 9\.0\).*upgrade arraynet"):
        arraynet.load(saved)


@pytest.mark.parametrize(
    "change_header, change_arrays, message",
    [
        (lambda h: h.update(layer_dims=[2, 4, 3, 1]), None, r"parameters\['W1'\] must have shape \(4, 2\); got \(5, 2\)"),
        (None, lambda a: a.pop("b3"), r"missing \['b3'\]"),
        (None, lambda a: a.update(W4=np.ones((1, 1))), r"unexpected \['W4'\]"),
        (lambda h: h.update(dtype="float32"), None, r"header says dtype 'float32' but 'W1' is float64"),
        (lambda h: h.update(model="Perceptron"), None, r"unknown model kind 'Perceptron'"),
        (lambda h: h.update(activations=[{"name": "swish"}] * 3), None, r"unknown activation"),
        (lambda h: h.update(activations=[{"name": "leaky_relu", "slope": 2.0}] * 3), None, r"slope must be"),
        (lambda h: h.pop("layer_dims"), None, r"layer_dims"),
        (lambda h: h.update(format_version="one"), None, r"corrupted header: format_version 'one'"),
        (lambda h: h.update(format="other"), None, r"not an arraynet model file: its header is not arraynet's"),
    ],
    ids=["layer_dims", "missing array", "extra array", "dtype", "kind", "activation", "slope", "no layer_dims", "version", "format"],
)
def test_a_file_whose_header_and_arrays_do_not_match(saved, change_header, change_arrays, message):
    rewrite(saved, change_header, change_arrays)
    with pytest.raises(arraynet.ModelFileError, match=r"model\.npz.*" + message):
        arraynet.load(saved)


def test_a_header_that_is_not_json(saved):
    with np.load(saved) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays[serialization.HEADER_KEY] = np.frombuffer(b'{"format": "arraynet.mo', dtype=np.uint8)
    np.savez(saved, **arrays)
    with pytest.raises(arraynet.ModelFileError, match=r"model\.npz has a corrupted header"):
        arraynet.load(saved)


def test_a_logistic_regression_file_with_a_mismatched_n_x(tmp_path):
    path = trained_logistic().save(tmp_path / "logistic.npz")
    rewrite(path, lambda header: header.update(layer_dims=[3, 1]))
    with pytest.raises(arraynet.ModelFileError, match=r"parameters\['w'\] must have shape \(3, 1\); got \(2, 1\)"):
        arraynet.load(path)


def test_an_unknown_backend_is_named_before_the_file_is_read(saved):
    with pytest.raises(ValueError, match="backend must be 'auto' or one of"):
        arraynet.load(saved, backend="tensorflow")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_a_file_with_nan_or_inf_parameters(saved, value):
    def poison(arrays):
        arrays["W2"] = arrays["W2"].copy()
        arrays["W2"][0, 0] = value

    rewrite(saved, None, poison)
    with pytest.raises(arraynet.ModelFileError, match=r"model file .*model\.npz is inconsistent: parameters\['W2'\] must be finite; it contains NaN or Inf"):
        arraynet.load(saved)


# -- hostile files: every damage is a ModelFileError, with bounded work before trust ------------------
HEADER = serialization.HEADER_KEY + ".npy"


def _forge(path, members, compression=zipfile.ZIP_STORED):
    """Write a zip of ``members`` (name -> bytes) at ``path``."""
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _npy(array=None, header=None):
    """A .npy member: of ``array``, or a raw ``header`` dict (a forgery) followed by no data."""
    buffer = io.BytesIO()
    if array is not None:
        np.lib.format.write_array(buffer, array, allow_pickle=False)
    else:
        np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def test_every_single_byte_flip_is_a_model_file_error_or_loads(tmp_path):
    path = tmp_path / "model.npz"
    model = arraynet.NeuralNetwork([2, 4, 1], seed=0)
    model.fit(X_FLOWER, Y_FLOWER, num_iterations=2)
    model.save(path)
    data = path.read_bytes()
    escaped = []
    for offset in range(len(data)):
        for change in (lambda b: b ^ 0x01, lambda b: 99):
            flipped = bytearray(data)
            flipped[offset] = change(flipped[offset])
            path.write_bytes(bytes(flipped))
            try:
                arraynet.load(path)
            except arraynet.ModelFileError:
                pass
            except Exception as exc:  # noqa: BLE001 - what the test looks for
                escaped.append((offset, type(exc).__name__, str(exc)[:80]))
    assert escaped == []


@pytest.mark.parametrize("field, value", [(8, None), (10, 99)], ids=["encrypted flag", "compression method"])
def test_the_central_directory_flags_of_the_issue(saved, field, value):
    data = bytearray(saved.read_bytes())
    central = data.index(b"PK\x01\x02")
    if value is None:
        data[central + field] |= 1  # "encrypted": zipfile raises RuntimeError
    else:
        data[central + field] = value  # unknown compression: NotImplementedError
    saved.write_bytes(bytes(data))
    with pytest.raises(arraynet.ModelFileError, match=r"model\.npz (is truncated or corrupted|is not one arraynet wrote: its member .* is compressed)"):
        arraynet.load(saved)


def test_a_member_that_is_not_a_numpy_array(saved):
    members = _members(saved)
    members["notes.txt"] = b"hello"
    _forge(saved, members)
    with pytest.raises(arraynet.ModelFileError, match=r"model\.npz is corrupted: its member 'notes\.txt' is not a NumPy array"):
        arraynet.load(saved)


def test_a_header_of_deeply_nested_brackets(saved):
    members = _members(saved)
    members[HEADER] = _npy(np.frombuffer(b"[" * 100_000, dtype=np.uint8))
    _forge(saved, members)
    with pytest.raises(arraynet.ModelFileError, match=r"model\.npz has a corrupted header"):
        arraynet.load(saved)


def test_a_member_that_claims_a_huge_shape_is_refused_before_any_allocation(saved):
    members = _members(saved)
    members["W1.npy"] = _npy(header={"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
    _forge(saved, members)
    with pytest.raises(arraynet.ModelFileError, match=r"parameters\['W1'\] must have shape \(5, 2\); got \(1000000, 1000000\)"):
        arraynet.load(saved)
    # a header that agrees, [10^6, 10^6, 1], over members that hold no data: too small for what it declares
    header = {**json.loads(np.lib.format.read_array(io.BytesIO(members[HEADER])).tobytes()), "layer_dims": [10**6, 10**6, 1]}
    header["activations"] = header["activations"][1:]
    shapes = {"W1": (10**6, 10**6), "b1": (10**6, 1), "W2": (1, 10**6), "b2": (1, 1)}
    forged = {HEADER: _npy(np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))}
    forged.update({f"{key}.npy": _npy(header={"descr": "<f8", "fortran_order": False, "shape": shape}) for key, shape in shapes.items()})
    _forge(saved, forged)
    with pytest.raises(arraynet.ModelFileError, match=r"member 'W1' holds \d+ bytes, fewer than the 8000000000000"):
        arraynet.load(saved)


def test_a_compressed_member_larger_than_its_declared_array_is_refused_before_decompression(saved, monkeypatch):
    members = _members(saved)
    members["W1.npy"] = members["W1.npy"] + b"\x00" * (64 << 20)  # 64 MiB of padding, deflated to ~64 KiB
    _forge(saved, members, zipfile.ZIP_DEFLATED)
    assert saved.stat().st_size < 1 << 20
    opened = []
    open_member = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: opened.append(getattr(name, "filename", name)) or open_member(self, name, *a, **k))
    with pytest.raises(arraynet.ModelFileError, match=r"is not one arraynet wrote: its member '__arraynet__\.npy' is compressed"):
        arraynet.load(saved)
    assert opened == []  # nothing was decompressed
    # stored, with W1 alone deflated: refused the same way, before the header is read
    with zipfile.ZipFile(saved, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data, zipfile.ZIP_DEFLATED if name == "W1.npy" else zipfile.ZIP_STORED)
    with pytest.raises(arraynet.ModelFileError, match=r"its member 'W1\.npy' is compressed"):
        arraynet.load(saved)


def test_save_keeps_the_permission_bits_of_the_file_it_replaces(saved):
    os.chmod(saved, 0o600)
    trained_logistic().save(saved)
    assert saved.stat().st_mode & 0o777 == 0o600


def test_save_into_a_folder_that_cannot_be_written_names_the_target(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / ".model.x.tmp.npz"))

    monkeypatch.setattr("arraynet.io._atomic.tempfile.mkstemp", refuse)
    with pytest.raises(PermissionError, match=rf"cannot write {re.escape(str(tmp_path / 'model.npz'))}: Permission denied in the folder"):
        trained_logistic().save(tmp_path / "model.npz")


def test_save_refuses_parameters_that_are_not_finite(tmp_path):
    model = trained_logistic()
    model._parameters = {**model._parameters, "b": np.array(-np.inf)}  # what a run that blew up could hold
    with pytest.raises(ValueError, match=r"cannot save the model to .*model\.npz: parameter 'b' holds NaN or Inf"):
        model.save(tmp_path / "model.npz")
    assert os.listdir(tmp_path) == []


def test_a_standardizing_model_saves_its_scaling_and_loads_it_on_any_backend(tmp_path, xp, device, to_xp):
    X = np.vstack([X_FLOWER[0] * 1e3 + 5, X_FLOWER[1] * 1e-3])
    model = arraynet.NeuralNetwork([2, 4, 1], hidden_activation="tanh", seed=3, standardize=True)
    model.fit(X, Y_FLOWER, learning_rate=1.2, num_iterations=200)
    path = model.save(tmp_path / "scaled.npz")
    with zipfile.ZipFile(path) as archive:
        assert {"input_mean.npy", "input_std.npy"} <= set(archive.namelist())
    with np.load(path) as archive:
        assert json.loads(archive["__arraynet__"].tobytes())["format_version"] == 2
    loaded = arraynet.load(path, backend=backend_name(xp), device=device)
    assert loaded.standardize is True
    np.testing.assert_allclose(to_numpy(loaded.predict_proba(to_xp(X))), model.predict_proba(X), rtol=1e-12)
    rewrite(path, None, lambda arrays: arrays.update(input_std=np.zeros((2, 1))))
    with pytest.raises(arraynet.ModelFileError, match="input_std must be > 0"):
        arraynet.load(path)


def test_duplicate_members_many_members_and_the_other_byte_order(saved, tmp_path):
    members = _members(saved)
    with zipfile.ZipFile(saved, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("W1.npy", members["W1.npy"])
    with pytest.raises(arraynet.ModelFileError, match=r"holds two members named 'W1\.npy'"):
        arraynet.load(saved)
    crowded = tmp_path / "crowded.npz"
    _forge(crowded, {f"x{k}.npy": b"" for k in range(5000)})
    with pytest.raises(arraynet.ModelFileError, match=r"declares 5000 members, where a model has at most 4096"):
        arraynet.load(crowded)
    big = trained_network()
    path = big.save(tmp_path / "model.npz")
    swapped = {name: data for name, data in _members(path).items()}
    for key in ("W1", "b1"):
        value = np.lib.format.read_array(io.BytesIO(swapped[f"{key}.npy"]))
        swapped[f"{key}.npy"] = _npy(value.astype(">f8"))  # as a big-endian machine writes it
    _forge(path, swapped)
    np.testing.assert_array_equal(arraynet.load(path).predict_proba(X_FLOWER), big.predict_proba(X_FLOWER))


def test_a_header_that_contradicts_itself_about_standardization(tmp_path):
    path = trained_logistic().save(tmp_path / "m.npz")
    rewrite(path, lambda h: h.update(input_scaling=True, format_version=2), lambda a: a.update(input_mean=np.zeros((2, 1)), input_std=np.ones((2, 1))))
    with pytest.raises(arraynet.ModelFileError, match="input is standardized .* but standardize is false"):
        arraynet.load(path)
    rewrite(path, lambda h: h.update(standardize=True), lambda a: a.update(input_std=np.full((2, 1), 5e-324)))
    with pytest.raises(arraynet.ModelFileError, match=r"input_std must be > 0, with 1 / input_std finite"):
        arraynet.load(path)


# -- the optimizer's state -------------------------------------------------------------------------
def adam_network():
    return arraynet.NeuralNetwork([2, 5, 3, 1], hidden_activation="tanh", seed=7)


def test_training_resumes_after_load_exactly_where_it_stopped(tmp_path, xp, device, to_xp):
    """Adam's v, s and t, the epochs counted for the shuffles and the decay: one epoch after
    save and load equals the second epoch of the model kept in memory, on every backend."""
    X, Y = to_xp(X_FLOWER), to_xp(Y_FLOWER)
    kept = adam_network()
    kept.fit(X, Y, 0.01, optimizer=arraynet.Adam(beta1=0.8), batch_size=64, epochs=1, decay=0.3)
    kept.save(tmp_path / "adam.npz")
    loaded = arraynet.load(tmp_path / "adam.npz", backend=backend_name(xp), device=device)
    assert (loaded._optimizer, loaded._epochs, loaded._updates) == (arraynet.Adam(beta1=0.8), 1, 7)
    for name, average in kept._optimizer_state.items():
        for key, value in average.items():
            assert_same_place(loaded._optimizer_state[name][key], value)
    for model in (kept, loaded):
        model.fit(X, Y, 0.01, optimizer=arraynet.Adam(beta1=0.8), batch_size=64, epochs=1, decay=0.3)
    for key, value in kept.get_parameters().items():
        np.testing.assert_array_equal(to_numpy(loaded.get_parameters()[key]), to_numpy(value))


def test_the_state_is_stored_as_v_and_s_members_with_a_format_3_header(tmp_path):
    model = adam_network()
    model.fit(X_FLOWER, Y_FLOWER, 0.01, optimizer="adam", batch_size=100, epochs=2)
    path = model.save(tmp_path / "adam.npz")
    with zipfile.ZipFile(path) as archive:
        names = sorted(name.removesuffix(".npy") for name in archive.namelist())
    assert names == sorted(["__arraynet__", *(f"{k}{l}" for k in "Wb" for l in (1, 2, 3))] + [f"{a}.d{k}{l}" for a in "vs" for k in "Wb" for l in (1, 2, 3)])
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(archive["__arraynet__"].tobytes().decode("utf-8"))
        np.testing.assert_array_equal(archive["v.dW2"], model._optimizer_state["v"]["dW2"])
    assert header["format_version"] == 3
    assert (header["optimizer"], header["epochs"], header["updates"]) == ({"name": "adam", "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}, 2, 8)


def test_a_model_trained_by_gradient_descent_is_written_in_the_format_older_readers_read(saved):
    with np.load(saved, allow_pickle=False) as archive:
        assert json.loads(archive["__arraynet__"].tobytes().decode("utf-8"))["format_version"] == 1
        assert sorted(archive.files) == sorted(["__arraynet__", "W1", "b1", "W2", "b2", "W3", "b3"])
    loaded = arraynet.load(saved)
    assert (loaded.optimizer, loaded.epochs, loaded.updates) == (arraynet.GradientDescent(), 200, 200)


@pytest.mark.parametrize(
    "first, then",
    [
        ({"num_iterations": 3}, {"epochs": 3, "decay": 0.5}),
        ({"num_iterations": 3}, {"batch_size": 32, "epochs": 2}),
        ({"batch_size": 400, "epochs": 2, "decay": 0.5}, {"batch_size": 400, "epochs": 2, "decay": 0.5}),
    ],
    ids=["gd then decay", "gd then mini-batches", "one batch with decay"],
)
def test_after_gradient_descent_training_resumes_after_load_exactly_too(tmp_path, first, then):
    """The epochs counted (for the shuffles and the decay) are saved with a model of no averages."""
    kept = adam_network()
    kept.fit(X_FLOWER, Y_FLOWER, 0.1, **first)
    loaded = arraynet.load(kept.save(tmp_path / "gd.npz"))
    assert (loaded.epochs, loaded.updates) == (kept.epochs, kept.updates)
    for model in (kept, loaded):
        model.fit(X_FLOWER, Y_FLOWER, 0.1, **then)
    for key, value in kept.get_parameters().items():
        np.testing.assert_array_equal(loaded.get_parameters()[key], value)


@pytest.mark.parametrize(
    "change_header, change_arrays, message",
    [
        (lambda h: h.update(optimizer={"name": "lion"}), None, r"unknown optimizer \{'name': 'lion'\}"),
        (lambda h: h["optimizer"].update(beta1=1.5), None, r"Adam: beta1 must be a number in \[0, 1\)"),
        (lambda h: h.update(updates=-1), None, r"updates must be a whole number >= 0; got -1"),
        (None, lambda a: a.pop("s.dW1"), r"missing \['s\.dW1'\]"),
        (None, lambda a: a.update({"v.dW1": np.ones((4, 2))}), r"\['v\.dW1'\] must have shape \(5, 2\); got \(4, 2\)"),
    ],
    ids=["optimizer", "setting", "count", "missing state", "state shape"],
)
def test_a_file_whose_optimizer_state_does_not_match(tmp_path, change_header, change_arrays, message):
    model = adam_network()
    model.fit(X_FLOWER, Y_FLOWER, 0.01, optimizer="adam", batch_size=100, epochs=1)
    path = model.save(tmp_path / "model.npz")
    rewrite(path, change_header, change_arrays)
    with pytest.raises(arraynet.ModelFileError, match=r"model\.npz.*" + message):
        arraynet.load(path)


# -- the classes' names (arraynet train on labels of named classes) ---------------------------------
def test_the_names_of_the_classes_are_saved_in_the_header_and_loaded(tmp_path):
    X = np.random.default_rng(0).normal(size=(2, 30))
    Y = np.argmax(np.stack([X[0], X[1], -X[0] - X[1]]), axis=0).reshape(1, -1).astype(float)
    model = arraynet.NeuralNetwork([2, 4, 3], seed=0)
    model.fit(X, Y, num_iterations=10)
    model.class_names = ["cat", "dog", "eel"]
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        header = json.loads(archive["__arraynet__"].tobytes().decode("utf-8"))
    assert header["classes"] == ["cat", "dog", "eel"]
    assert arraynet.load(tmp_path / "m.npz").class_names == ["cat", "dog", "eel"]
    rewrite(tmp_path / "m.npz", change_header=lambda header: header.pop("classes"))  # a file without them: as before
    assert getattr(arraynet.load(tmp_path / "m.npz"), "class_names", None) is None
    rewrite(tmp_path / "m.npz", change_header=lambda header: header.update(classes=["cat", "dog"]))
    with pytest.raises(serialization.ModelFileError, match=r"its header's classes must be the 3 names of its classes"):
        arraynet.load(tmp_path / "m.npz")


def test_a_model_without_class_names_has_no_classes_key(saved):
    with np.load(saved, allow_pickle=False) as archive:
        assert "classes" not in json.loads(archive["__arraynet__"].tobytes().decode("utf-8"))
