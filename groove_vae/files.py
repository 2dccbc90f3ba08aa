"""Writing files whole or not at all.

Every file the project writes goes through `atomic_write`: the contents go to a
temporary file in the target's folder, are flushed and fsynced, and only then replace
the target in one `os.replace`. A failure part-way (a bad value, a full disk, Ctrl-C)
leaves the old file as it was and raises `WriteError` naming the path; it never leaves a
truncated file, and never reports success for bytes that did not reach the disk.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile


class WriteError(OSError):
    """A file that could not be written; the message names it and says why."""


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb"):
    """Yields a file object whose contents replace `path` when the block ends without error.

    A target that exists and is not a regular file (a device such as /dev/full, a FIFO)
    is written in place, since replacing it would replace the device; its write errors
    still raise.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise WriteError(f"{path}: is a directory, not a file")
    try:
        special = os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        special = False
    if special:
        try:
            with open(path, mode) as f:
                yield f
                f.flush()
        except OSError as e:
            raise WriteError(f"{path}: could not write ({e.strerror or e})") from None
        return
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        what = "is not a folder" if os.path.exists(directory) else "does not exist"
        raise WriteError(f"{path}: could not write ({directory} {what})")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as e:
        raise WriteError(f"{path}: could not write ({e.strerror or e})") from None
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as e:
        _remove(tmp)
        raise WriteError(f"{path}: could not write ({e.strerror or e})") from None
    except BaseException:
        _remove(tmp)
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> str:
    """Writes `data` to `path` whole or not at all; returns the path."""
    with atomic_write(path, "wb") as f:
        f.write(data)
    return os.fspath(path)


def write_text(path: str | os.PathLike, text: str) -> str:
    """Writes `text` (UTF-8) to `path` whole or not at all; returns the path."""
    with atomic_write(path, "w") as f:
        f.write(text)
    return os.fspath(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)
