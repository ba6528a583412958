"""Loading users' data files (.npz, .csv, the course's .h5 image sets) into arraynet's layout,
and the error each kind of bad file gets."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import arraynet
from arraynet.io.loaders import load_csv, load_data, load_h5, load_npz

RNG = np.random.default_rng(0)
X3 = RNG.standard_normal((3, 6))  # n_x = 3, m = 6
Y3 = np.array([[0.0, 1.0, 1.0, 0.0, 1.0, 0.0]])


def write_csv(path, text):
    path.write_text(text)
    return path


def write_h5(path, **datasets):
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "w") as file:
        for key, value in datasets.items():
            file[key] = value
    return path


def images(m, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(m, 4, 5, 3), dtype=np.uint8)


# -- what each format gives ------------------------------------------------------------------------
@pytest.mark.parametrize("Y_stored", [Y3, Y3[0].astype(np.int64), Y3[0].astype(bool)], ids=["(1,m)", "(m,) int", "(m,) bool"])
def test_npz_gives_X_and_Y_in_the_seed_layout_as_float64(tmp_path, Y_stored):
    np.savez(tmp_path / "d.npz", X=X3, Y=Y_stored)
    X, Y = load_data(tmp_path / "d.npz")
    np.testing.assert_array_equal(X, X3)
    np.testing.assert_array_equal(Y, Y3)
    assert X.dtype == Y.dtype == np.float64 and Y.shape == (1, 6)


def test_npz_without_labels_reads_only_X(tmp_path):
    np.savez(tmp_path / "d.npz", X=X3)
    X, Y = load_data(tmp_path / "d.npz", labels=False)
    np.testing.assert_array_equal(X, X3)
    assert Y is None


def test_csv_rows_are_examples_and_the_last_column_is_the_label(tmp_path):
    rows = "\n".join(",".join(repr(float(v)) for v in [*X3[:, j], Y3[0, j]]) for j in range(6))
    X, Y = load_data(write_csv(tmp_path / "d.csv", rows + "\n"))
    np.testing.assert_array_equal(X, X3)  # float repr round-trips exactly
    np.testing.assert_array_equal(Y, Y3)


def test_csv_header_comments_blank_lines_and_a_named_label_column(tmp_path):
    path = write_csv(tmp_path / "d.csv", "# made by hand\nlabel,a,b\n1,0.5,2\n\n0,1.5,-3\n")
    X, Y = load_csv(path, label_column="label")
    np.testing.assert_array_equal(X, [[0.5, 1.5], [2.0, -3.0]])
    np.testing.assert_array_equal(Y, [[1.0, 0.0]])
    np.testing.assert_array_equal(load_csv(path, label_column=0)[0], X)


@pytest.mark.parametrize("header", ["0,1,y", ",1,y", "2024,2025,y"], ids=["pandas", "empty name", "years"])
def test_a_header_may_name_columns_with_numbers_when_one_name_is_text(tmp_path, header):
    """pandas writes ``0,1,y`` for columns 0 and 1: the text cell makes the line a header."""
    X, Y = load_csv(write_csv(tmp_path / "d.csv", f"{header}\n0.5,2,1\n1.5,-3,0\n"), label_column="y")
    np.testing.assert_array_equal(X, [[0.5, 1.5], [2.0, -3.0]])
    np.testing.assert_array_equal(Y, [[1.0, 0.0]])


@pytest.mark.parametrize("header, label_column", [("", 0), ("y,a,b\n", "y")], ids=["no header", "header"])
def test_csv_with_a_byte_order_mark_keeps_every_row(tmp_path, header, label_column):
    """Excel's "CSV UTF-8" starts with a BOM: the first line is still a row of data (or the header,
    whose first name is still 'y')."""
    (tmp_path / "d.csv").write_bytes(b"\xef\xbb\xbf" + f"{header}0,1.5,2\n1,3,4\n0,5,6\n".encode())
    X, Y = load_csv(tmp_path / "d.csv", label_column=label_column)
    np.testing.assert_array_equal(X, [[1.5, 3, 5], [2, 4, 6]])
    np.testing.assert_array_equal(Y, [[0, 1, 0]])


def test_csv_label_column_left_out_without_reading_it(tmp_path):
    """read_labels=False: a file to predict may hold placeholders where its labels are unknown."""
    path = write_csv(tmp_path / "d.csv", "y,a,b\nnan,1,2\n7,3,4\n?,5,6\n,7,8\n")
    X, Y = load_csv(path, label_column="y", read_labels=False)
    np.testing.assert_array_equal(X, [[1, 3, 5, 7], [2, 4, 6, 8]])
    assert Y is None
    with pytest.raises(ValueError, match=r"d\.csv, line 2, column 1: 'nan' is not a finite number"):
        load_csv(path, label_column="y")


def test_csv_without_labels_is_all_features(tmp_path):
    X, Y = load_data(write_csv(tmp_path / "d.csv", "1,2,3\n4,5,6\n"), labels=False)
    np.testing.assert_array_equal(X, [[1, 4], [2, 5], [3, 6]])
    assert Y is None


def test_h5_images_are_flattened_into_columns_and_scaled_to_0_1(tmp_path):
    train, test = images(5, seed=1), images(3, seed=2)
    path = write_h5(
        tmp_path / "cats.h5",
        train_set_x=train, train_set_y=np.array([0, 1, 1, 0, 1]),
        test_set_x=test, test_set_y=np.array([[1, 0, 1]]), list_classes=np.array([b"non-cat", b"cat"]),
    )
    X, Y = load_data(path)
    assert X.shape == (4 * 5 * 3, 5) and X.dtype == np.float64
    np.testing.assert_array_equal(X, train.reshape(5, -1).T / 255)  # the course's flatten, then / 255
    assert 0.0 <= X.min() and X.max() <= 1.0
    np.testing.assert_array_equal(Y, [[0, 1, 1, 0, 1]])
    X_test, Y_test = load_data(path, split="test")
    np.testing.assert_array_equal(X_test, test.reshape(3, -1).T / 255)
    np.testing.assert_array_equal(Y_test, [[1, 0, 1]])
    assert load_data(path, split="test", labels=False)[1] is None


def test_h5_float_pixels_are_kept_as_they_are(tmp_path):
    pixels = np.random.default_rng(3).uniform(size=(4, 2, 2))
    X, _ = load_h5(write_h5(tmp_path / "d.hdf5", x=pixels, y=np.array([0, 1, 0, 1])), "x", "y")
    np.testing.assert_array_equal(X, pixels.reshape(4, -1).T)


def test_loaded_data_trains_a_model(tmp_path):
    X_moons, Y_moons = arraynet.load_moons(m=40)
    np.savez(tmp_path / "moons.npz", X=X_moons, Y=Y_moons)
    X, Y = load_data(tmp_path / "moons.npz")
    model = arraynet.NeuralNetwork([2, 4, 1], hidden_activation="tanh", seed=0)
    model.fit(X, Y, learning_rate=1.0, num_iterations=50)
    assert 0.0 <= model.accuracy(X, Y) <= 1.0


# -- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["nothing.npz", "nothing.csv", "nothing.h5"])
def test_a_missing_file_is_FileNotFoundError_naming_it(tmp_path, name):
    with pytest.raises(FileNotFoundError, match=f"data file .*{name} does not exist"):
        load_data(tmp_path / name)


def test_a_directory_is_not_a_data_file(tmp_path):
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(ValueError, match="is not a file"):
        load_data(tmp_path / "dir.csv")


def test_an_unknown_suffix_names_the_supported_ones(tmp_path):
    with pytest.raises(ValueError, match=r"must end in one of .npz, .csv, .h5, .hdf5, .zarr; got '.json'"):
        load_data(tmp_path / "d.json")


def test_path_must_be_a_path(tmp_path):
    with pytest.raises(TypeError, match="path must be a str or os.PathLike .* got int"):
        load_data(3)


def test_npz_missing_key_names_the_key_and_what_the_file_holds(tmp_path):
    np.savez(tmp_path / "d.npz", features=X3, Y=Y3)
    with pytest.raises(ValueError, match=r"has no array 'X'; it holds 'features', 'Y'"):
        load_data(tmp_path / "d.npz")
    np.savez(tmp_path / "e.npz", X=X3)
    with pytest.raises(ValueError, match=r"has no array 'Y'"):
        load_npz(tmp_path / "e.npz")


@pytest.mark.parametrize("content", [b"not an archive", b"PK\x03\x04 truncated"], ids=["text", "truncated zip"])
def test_npz_that_is_not_an_archive(tmp_path, content):
    (tmp_path / "d.npz").write_bytes(content)
    with pytest.raises(ValueError, match=r"d.npz is not .*\.npz archive"):
        load_data(tmp_path / "d.npz")


def test_npz_truncated_mid_way_is_not_read(tmp_path):
    np.savez(tmp_path / "d.npz", X=X3, Y=Y3)
    whole = (tmp_path / "d.npz").read_bytes()
    (tmp_path / "d.npz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r"d.npz is not .*\.npz archive"):
        load_data(tmp_path / "d.npz")


def test_npz_object_arrays_are_refused_without_running_pickle(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.array([[1, "a"]], dtype=object), Y=np.array([0, 1]))
    with pytest.raises(ValueError, match="not a readable .npz archive: Object arrays cannot be loaded"):
        load_data(tmp_path / "d.npz")


@pytest.mark.parametrize(
    "X, Y, error, message",
    [
        (np.ones(6), Y3, ValueError, r"'X' in .* must be 2-D of shape \(n_x, m\).* got shape \(6,\)"),
        (X3.T, Y3, ValueError, r"has shape \(6, 3\), one example per row.*store its transpose"),
        (X3, Y3[:, :5], ValueError, r"'Y' in .* must have shape \(1, m\) or \(m,\) with m = 6 examples; got shape \(1, 5\)"),
        (X3, Y3.T, ValueError, r"got shape \(6, 1\)"),
        (np.array([["a", "b"]]), np.array([0, 1]), TypeError, r"'X' in .* must hold real numbers; got dtype <U1"),
        (X3 + 1j, Y3, TypeError, "must hold real numbers"),
        (np.where(X3 > 0, np.nan, X3), Y3, ValueError, "'X' in .* must be finite"),
        (X3, Y3 * 0.5, ValueError, r"'Y' in .* must be class labels: 0 and 1, whole numbers \(0 to K\) or names; got also 0.5"),
        (X3, np.arange(6.0) + 0.25, ValueError, r"got also 0.25, 1.25, 2.25, 3.25, 4.25, \.\.\."),
        (X3, np.where(Y3 > 0, np.nan, 2.0), ValueError, "'Y' in .* must be finite"),
    ],
    ids=["X 1-D", "X rows", "Y short", "Y column", "X strings", "X complex", "X NaN", "Y 0/0.5", "Y fractions", "Y NaN"],
)
def test_npz_bad_contents(tmp_path, X, Y, error, message):
    np.savez(tmp_path / "d.npz", X=X, Y=Y)
    with pytest.raises(error, match=message):
        load_data(tmp_path / "d.npz")


@pytest.mark.parametrize(
    "text, message",
    [
        ("1,2,0\n3,4\n", r"d.csv, line 2: 2 values where the rows above have 3"),
        ("a,b,y\n1,2\n", r"line 2: 2 values where the header has 3"),
        ("1,2,0\n\n# note\n3,x,1\n", r"d.csv, line 4, column 2: 'x' is not a number"),
        ("1,2,0\n3,,1\n", r"d.csv, line 2, column 2: the cell is empty \(missing values are not supported\)"),
        ("a,b,y\n1,2,0\n3,4, \n", r"line 3, column 3 \('y'\): the cell is empty"),
        ("1.0,,0\n3,4,1\n", r"line 1, column 2: the cell is empty .*the header when one of its cells is text"),
        ("a,b,y\n", "holds no rows of numbers"),
        ("", "holds no rows of numbers"),
        ("1,2,0\n3,4,2.5\n", r"labels \(column 3\) in .* must be class labels.*; got also 2.5"),
        ("a,y\n1,0\n2,0.5\n", r"labels \(column 'y'\) .* got also 0.5"),
        ("a,y\n1,0\n2,1.0000000001\n", r"got also 1.0000000001"),
        ("1,inf,0\n", r"d.csv, line 1, column 2: 'inf' is not a finite number"),
        ("1,1_000,0\n", r"d.csv, line 1, column 2: '1_000' has '_' in it"),
        ("1;2;0\n3;4;1\n", r"^is the file separated by ';'\? pass --delimiter ';' .*d.csv, line 1 is read as one cell"),
        ("1\n0\n", "has one column: it needs at least one feature besides the labels"),
    ],
    ids=["ragged", "ragged vs header", "non-numeric", "empty cell", "empty named cell", "empty cell on line 1",
         "header only", "empty", "label 2.5", "label 0.5", "label near 1", "inf", "underscore", "other delimiter", "one column"],
)
def test_csv_bad_rows(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        load_data(write_csv(tmp_path / "d.csv", text))


def test_csv_label_column_must_exist(tmp_path):
    path = write_csv(tmp_path / "d.csv", "a,b\n1,0\n")
    with pytest.raises(ValueError, match=r"label_column must be in \[-2, 1\] for the 2 columns of .*; got 2"):
        load_csv(path, label_column=2)
    with pytest.raises(ValueError, match=r"label_column 'y' names no column of .*; its columns are a, b"):
        load_csv(path, label_column="y")
    with pytest.raises(TypeError, match="label_column must be a column index, a column name or None; got 1.0"):
        load_csv(path, label_column=1.0)


def test_csv_that_is_not_text(tmp_path):
    (tmp_path / "d.csv").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ValueError, match="is not a UTF-8 text"):
        load_data(tmp_path / "d.csv")


def test_h5_missing_key_names_the_key_and_what_the_file_holds(tmp_path):
    path = write_h5(tmp_path / "d.h5", train_set_x=images(2), train_set_y=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"has no data set 'test_set_x'; it holds 'train_set_x', 'train_set_y'"):
        load_data(path, split="test")


@pytest.mark.parametrize(
    "x, y, message",
    [
        (images(3), np.array([0, 1]), r"'train_set_y' in .* must have shape \(1, m\) or \(m,\) with m = 3"),
        (images(2), np.array([0, 0.5]), r"'train_set_y' in .* must be class labels.* got also 0.5"),
        (np.arange(3), np.array([0, 1, 0]), r"'train_set_x' in .* must have shape \(m, \.\.\.\)"),
        (np.full((2, 2, 2), 300, dtype=np.int16), np.array([0, 1]), r"integer pixels outside \[0, 255\]"),
        (np.array([[b"a"], [b"b"]]), np.array([0, 1]), "must hold real numbers"),
    ],
    ids=["labels short", "label 0.5", "x 1-D", "pixels 300", "strings"],
)
def test_h5_bad_contents(tmp_path, x, y, message):
    path = write_h5(tmp_path / "d.h5", train_set_x=x, train_set_y=y)
    with pytest.raises((ValueError, TypeError), match=message):
        load_data(path)


def test_h5_that_is_not_hdf5(tmp_path):
    pytest.importorskip("h5py")
    (tmp_path / "d.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(ValueError, match="d.h5 is not a readable HDF5 file"):
        load_data(tmp_path / "d.h5")


def test_h5_without_h5py_says_how_to_install_it(tmp_path, monkeypatch):
    (tmp_path / "d.h5").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "h5py", None)  # makes `import h5py` fail
    with pytest.raises(ImportError, match=r'needs h5py: pip install "arraynet\[h5\]"'):
        load_data(tmp_path / "d.h5")


# -- files that declare more than they hold ---------------------------------------------------------
def test_hdf5_labels_of_the_wrong_length_are_refused_from_the_metadata_before_any_read(tmp_path):
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "d.h5", "w") as file:
        file.create_dataset("train_set_x", data=np.zeros((10, 4, 4, 3), dtype=np.uint8))
        file.create_dataset("train_set_y", shape=(2_000_000_000,), dtype=np.uint8, chunks=(1 << 20,))  # never written
    assert (tmp_path / "d.h5").stat().st_size < 100_000
    with pytest.raises(ValueError, match=r"'train_set_y' in .*d\.h5 must have shape \(1, m\) or \(m,\) with m = 10 examples; got shape \(2000000000,\)"):
        load_data(tmp_path / "d.h5")


def test_a_file_that_declares_more_than_the_free_memory_is_refused_before_it_is_read(tmp_path, monkeypatch):
    h5py = pytest.importorskip("h5py")
    from arraynet.io import loaders

    with h5py.File(tmp_path / "d.h5", "w") as file:
        file.create_dataset("train_set_x", shape=(20_000, 64, 64, 3), dtype=np.uint8, chunks=(1, 64, 64, 3))  # 245 MB declared
        file.create_dataset("train_set_y", data=np.zeros(20_000, dtype=np.uint8))
    np.savez_compressed(tmp_path / "d.npz", X=np.zeros((100, 100_000), dtype=np.uint8), Y=np.zeros(100_000))
    monkeypatch.setattr(loaders, "available_memory", lambda: 64 << 20)
    with pytest.raises(ValueError, match=r"data file .*d\.h5 declares train_set_x \(12288, 20000\): 2\.1 GiB to load as float64, more than the 0\.1 GiB of memory free; read it chunk by chunk"):
        load_data(tmp_path / "d.h5")
    with pytest.raises(ValueError, match=r"data file .*d\.npz declares X \(100, 100000\), Y \(100000,\): 0\.1 GiB .*chunk by chunk"):
        load_data(tmp_path / "d.npz")


def test_hdf5_images_become_one_float64_array_without_a_second_copy(tmp_path):
    h5py = pytest.importorskip("h5py")
    import tracemalloc

    images = np.random.default_rng(0).integers(0, 256, size=(4000, 32, 32, 3), dtype=np.uint8)  # 12 MB; 98 MB as float64
    with h5py.File(tmp_path / "d.h5", "w") as file:
        file.create_dataset("train_set_x", data=images)
        file.create_dataset("train_set_y", data=np.zeros(4000, dtype=np.uint8))
    tracemalloc.start()
    X, _ = load_data(tmp_path / "d.h5")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_array_equal(X, images.reshape(4000, -1).T / 255.0)
    assert peak < images.nbytes + X.nbytes * 1.3  # the pixels read, one float64 X, one block of 16 MiB at a time


# -- class labels (issue 20) -------------------------------------------------------------------------
def test_csv_text_labels_are_classes_numbered_in_sorted_order(tmp_path):
    path = write_csv(tmp_path / "d.csv", "5.1,3.5,setosa\n7.0,3.2,versicolor\n6.3,3.3,virginica\n4.9,3.0,setosa\n")
    X, Y, classes = load_csv(path, return_classes=True)
    assert classes == ["setosa", "versicolor", "virginica"]
    np.testing.assert_array_equal(Y, [[0, 1, 2, 0]])
    np.testing.assert_array_equal(X, [[5.1, 7.0, 6.3, 4.9], [3.5, 3.2, 3.3, 3.0]])
    named = write_csv(tmp_path / "n.csv", "species,a\ncat,1\ndog,2\n")
    X, Y, classes = load_data(named, label_column="species", return_classes=True)
    assert classes == ["cat", "dog"] and Y.tolist() == [[0.0, 1.0]] and X.tolist() == [[1.0, 2.0]]


def test_csv_header_whose_only_text_is_the_label_name(tmp_path):
    """pandas' "0,1,y" is a header (no other line has the label y); "5,3,setosa" an example."""
    X, Y, classes = load_csv(write_csv(tmp_path / "d.csv", "0,1,y\n1,2,0\n3,4,1\n"), return_classes=True)
    assert X.shape == (2, 2) and Y.tolist() == [[0.0, 1.0]] and classes is None


def test_integer_labels_0_to_k_and_any_integers_are_classes(tmp_path):
    X = np.ones((2, 5))
    np.savez(tmp_path / "k.npz", X=X, Y=np.array([0, 1, 2, 3, 2]))
    _, Y, classes = load_npz(tmp_path / "k.npz", return_classes=True)
    assert classes == ["0", "1", "2", "3"] and Y.tolist() == [[0.0, 1.0, 2.0, 3.0, 2.0]] and Y.dtype == np.float64
    np.savez(tmp_path / "any.npz", X=X, Y=np.array([[10, -1, 7, 10, -1]]))
    _, Y, classes = load_data(tmp_path / "any.npz", return_classes=True)
    assert classes == ["-1", "7", "10"] and Y.tolist() == [[2.0, 0.0, 1.0, 2.0, 0.0]]
    np.savez(tmp_path / "text.npz", X=X, Y=np.array(["b", "a", "c", "a", "b"]))
    _, Y, classes = load_data(tmp_path / "text.npz", return_classes=True)
    assert classes == ["a", "b", "c"] and Y.tolist() == [[1.0, 0.0, 2.0, 0.0, 1.0]]


def test_binary_files_give_what_they_gave(tmp_path):
    np.savez(tmp_path / "b.npz", X=np.ones((2, 3)), Y=np.array([1, 0, 1], dtype=np.int8))
    _, Y = load_npz(tmp_path / "b.npz")
    assert Y.dtype == np.float64 and Y.tolist() == [[1.0, 0.0, 1.0]]
    assert load_data(tmp_path / "b.npz", return_classes=True)[2] is None
    _, Y, classes = load_csv(write_csv(tmp_path / "b.csv", "1,0\n2,1\n"), return_classes=True)
    assert classes is None and Y.tolist() == [[0.0, 1.0]]


def test_h5_labels_of_several_classes(tmp_path):
    pytest.importorskip("h5py")
    path = write_h5(tmp_path / "d.h5", train_set_x=np.zeros((3, 2, 2, 3), dtype=np.uint8), train_set_y=np.array([2, 0, 5]))
    _, Y, classes = load_h5(path, return_classes=True)
    assert classes == ["0", "2", "5"] and Y.tolist() == [[1.0, 0.0, 2.0]]


# -- CSV columns and headers (issue 21, 18) -----------------------------------------------------------
def test_the_last_of_31_columns_is_column_31_in_every_error(tmp_path):
    good = ",".join(["1"] * 30)
    path = write_csv(tmp_path / "d.csv", f"{good},0\n{good},0.5\n")
    with pytest.raises(ValueError, match=r"labels \(column 31\)"):
        load_csv(path)
    path = write_csv(tmp_path / "e.csv", f"{good},0\n{good},x\n")
    with pytest.raises(ValueError, match=r"line 2, column 31: 'x' is not a number"):
        load_csv(path, label_column=0)


def test_a_header_of_column_numbers_is_a_header(tmp_path):
    X, Y = load_csv(write_csv(tmp_path / "d.csv", "0,1,2\n1,2,0\n3,4,1\n"))
    assert X.tolist() == [[1.0, 3.0], [2.0, 4.0]] and Y.tolist() == [[0.0, 1.0]]
    with pytest.raises(ValueError, match=r"line 1: the header ',0,1,2' is pandas' with its index .*index=False"):
        load_csv(write_csv(tmp_path / "i.csv", ",0,1,2\n0,1,2,0\n1,3,4,1\n"))
