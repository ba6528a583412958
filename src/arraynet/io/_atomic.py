"""Files arraynet writes are written whole or not at all: into a temporary file beside the target,
renamed over it (``os.replace``, atomic on one file system) only once complete."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path"]


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s directory, with ``path``'s suffix (so that writers
    which infer the format from it still do); on success it replaces ``path``, on failure it is
    removed and ``path`` is left as it was. A file that replaces another keeps that one's
    permission bits; a new one gets those the umask gives new files. A symbolic link is followed
    (the file it points to is replaced; a hard link to the old file keeps the old contents). A
    folder that cannot be written, or a read-only file, is a ``PermissionError`` naming ``path``;
    a device, FIFO or socket is a ``ValueError`` (it is never replaced)."""
    path = Path(path)
    if path.is_symlink():  # the file it points to is the one to replace, not the link
        path = path.resolve()
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: directory {path.parent} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a directory; give a file name in it")
    if path.exists() and not path.is_file():
        raise ValueError(f"cannot write {path}: it is not a regular file (a device, a FIFO or a socket); give a file name")
    if path.exists() and not stat.S_IMODE(path.stat().st_mode) & stat.S_IWUSR:
        raise PermissionError(13, f"cannot write {path}: it is read-only; make it writable first or give another name")
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot write {path}: {exc.strerror} in the folder {path.parent}") from exc
    os.close(descriptor)
    try:
        yield Path(temporary)
        if path.exists():
            mode = stat.S_IMODE(path.stat().st_mode)
        else:
            umask = os.umask(0o022)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
