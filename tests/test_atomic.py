"""Files arraynet writes are written whole or not at all, and a bad target is named before any
work is done."""

from __future__ import annotations

import pytest

import arraynet
from arraynet.io._atomic import atomic_path


def test_a_directory_as_the_target_is_an_error_that_names_it_and_leaves_nothing_behind(tmp_path):
    model = arraynet.NeuralNetwork([2, 1], seed=0)
    model.fit(*arraynet.load_flower(), num_iterations=1)
    with pytest.raises(IsADirectoryError, match=f"cannot write {tmp_path}: it is a directory"):
        model.save(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_old_file_as_it_was(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="writer failed"), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("writer failed")
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]


def test_a_missing_directory_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="directory .*missing does not exist"), atomic_path(
        tmp_path / "missing" / "out.txt"
    ):
        pass
