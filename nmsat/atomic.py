"""Atomic file writes (text, bytes, CSV): an output file is either complete or absent, never half-written.

Data goes to a temporary file ``.nmsat-tmp-XXXXXXXX.tmp`` beside the target (a short fixed-length name, so
a legal 255-byte target name still works), which is renamed onto the target only once it is complete.
The temporary file is created like a plain ``open()`` would create the target: mode 0666 less the
umask, or the mode of the file it replaces. It is removed on any error, including Ctrl-C and SIGTERM
(the CLI turns both into exceptions); after a SIGKILL a leftover ``.nmsat-tmp-*.tmp`` file is harmless
(names are random and created exclusively) and may be deleted. Failures raise `NmsatError` naming the
path and the reason, and leave an existing target untouched.
"""

import csv
import io
import os
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path

from nmsat import interrupt
from nmsat.errors import NmsatError

TEMP_PREFIX = ".nmsat-tmp-"
NAME_MAX = 255  # bytes in one file name on Linux, macOS and Windows file systems


def _error(path, e):
    return NmsatError(f"cannot write {str(path)!r}: {e.strerror or e}")


def check_output(path, inputs=(), others=()):
    """Raise `NmsatError` unless `path` can be an output: named, not a folder, not too long, inside
    folders (existing or creatable) we may write, and none of `inputs` or `others` (other outputs)."""
    if path is None or str(path) == "":
        raise NmsatError("output path is empty")
    path = Path(path)
    if len(os.fsencode(path.name)) > NAME_MAX:
        raise NmsatError(f"output {str(path)[:60]!r}...: file name longer than {NAME_MAX} bytes")
    if path.is_dir():
        raise NmsatError(f"cannot write {str(path)!r}: is a directory")
    for other, what in [(p, "an input") for p in inputs if p] + [(p, "another output") for p in others if p]:
        if _same(path, Path(other)):
            raise NmsatError(f"output {str(path)!r} is also {what} of this command")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise NmsatError(f"cannot write {str(path)!r}: {str(parent)!r} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise NmsatError(f"cannot write {str(path)!r}: permission denied in {str(parent)!r}")


def check_folder(folder, names=(), inputs=()):
    """Raise `NmsatError` unless `folder` can hold the outputs `names` (see `check_output`)."""
    if folder is None or str(folder) == "":
        raise NmsatError("output folder is empty")
    if Path(folder).exists() and not Path(folder).is_dir():
        raise NmsatError(f"output folder {str(folder)!r}: is not a directory")
    for name in names:
        check_output(Path(folder) / name, inputs)


def _same(a, b):
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _create_temp(folder, mode):
    while True:
        tmp = folder / f"{TEMP_PREFIX}{secrets.token_hex(4)}.tmp"  # torch.save needs a suffix
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            continue


@contextmanager
def _direct_fd(path):
    """Yield ``(path, fd)`` of an existing device or FIFO (e.g. /dev/null), written in place like open()."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError as e:
        raise _error(path, e) from None
    try:
        yield path, fd
    except OSError as e:
        raise _error(path, e) from None
    finally:
        os.close(fd)


@contextmanager
def atomic_fd(path):
    """Yield ``(temp path, open fd)`` beside `path`; rename the temp onto `path` if the block succeeds.

    A symbolic link is followed (its target is replaced, as open() would write through it); an existing
    device or FIFO such as /dev/null is written in place, since it cannot be replaced."""
    path = Path(path)
    check_output(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    if path.exists() and not path.is_file():
        with _direct_fd(path) as opened:
            yield opened
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else 0o666
        tmp, fd = _create_temp(path.parent, mode)
    except OSError as e:
        raise _error(path, e) from None
    try:
        try:
            if mode != 0o666:
                os.fchmod(fd, mode)  # replace keeps the old file's mode, umask already applied to new ones
            yield tmp, fd
        finally:
            os.close(fd)
        interrupt.check()  # no new output once Ctrl-C or SIGTERM arrived
        os.replace(tmp, path)
    except OSError as e:
        raise _error(path, e) from None
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path` for a writer that opens it by name (e.g. ``torch.save``)."""
    with atomic_fd(path) as (tmp, _fd):
        yield tmp


def write_bytes(path, data):
    """Write `data` to `path` atomically."""
    with atomic_fd(path) as (_tmp, fd):
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]


def write_text(path, text):
    """Write `text` (UTF-8) to `path` atomically."""
    write_bytes(path, text.encode("utf-8"))


def csv_text(rows, fieldnames=None):
    """CSV text of `rows` (dicts) with a header; columns default to the first row's keys."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(fieldnames or rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write_csv(path, rows, fieldnames=None):
    """Write `rows` as CSV to `path` atomically."""
    write_text(path, csv_text(rows, fieldnames))
