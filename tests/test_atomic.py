"""Files arraynet writes are written whole or not at all, and a bad target is named before any
work is done."""

from __future__ import annotations

import os
import stat

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


def test_a_device_or_fifo_is_never_replaced(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="it is not a regular file"), atomic_path(fifo) as temporary:
        temporary.write_text("x")
    assert stat.S_ISFIFO(fifo.stat().st_mode) and os.listdir(tmp_path) == ["fifo"]


def test_a_symlink_is_followed_and_a_read_only_file_is_refused(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    with atomic_path(link) as temporary:
        temporary.write_text("new")
    assert link.is_symlink() and real.read_text() == "new"
    os.chmod(real, 0o444)
    with pytest.raises(PermissionError, match="it is read-only"), atomic_path(real) as temporary:
        temporary.write_text("newer")
    assert real.read_text() == "new"
