"""Writing files whole or not at all.

Every file the project writes goes through `atomic_write`: the contents go to a
temporary file in the target's folder, are flushed and fsynced, and only then replace
the target in one `os.replace`. A failure part-way (a bad value, a full disk, Ctrl-C)
leaves the old file as it was and raises `WriteError` naming the path; it never leaves a
truncated file, and never reports success for bytes that did not reach the disk.

Replacing a file keeps its permission bits (a 0600 file stays 0600). A symbolic link is
written through: the file it points to is replaced and the link stays. A temporary that a
killed process left beside a target is removed by the next write to that target: each
writer holds a lock on its temporary, so only the dead ones' are taken.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
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
    if os.path.islink(path):
        path = os.path.realpath(path)  # Written through: the link keeps pointing at the new contents.
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
    remove_stale_temporaries(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as e:
        raise WriteError(f"{path}: could not write ({e.strerror or e})") from None
    with contextlib.suppress(OSError):  # A file system without locks: its temporaries are never taken.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # Ours while we live: see remove_stale_temporaries.
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
            try:
                permissions = stat.S_IMODE(os.stat(path).st_mode)  # An existing file keeps its mode.
            except FileNotFoundError:
                permissions = 0o666 & ~_umask()
            os.chmod(tmp, permissions)
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


def remove_stale_temporaries(path: str | os.PathLike) -> list[str]:
    """Removes the temporaries of `path` (`.<name>.*.tmp` beside it) whose writer is gone:
    a live writer holds a lock on its own, so a lock that can be taken marks a killed one's."""
    path = os.fspath(path)
    pattern = os.path.join(glob.escape(os.path.dirname(path) or "."), glob.escape(f".{os.path.basename(path)}.") + "*.tmp")
    removed = []
    for stale in glob.glob(pattern):
        try:
            fd = os.open(stale, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if stat.S_ISREG(os.fstat(fd).st_mode):
                os.remove(stale)
                removed.append(stale)
        except OSError:
            pass  # Locked: another process is writing it now.
        finally:
            os.close(fd)
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)
