"""Writing a file the one way Jutaku writes files: owner-only (0600) from the first byte, complete or absent.

Every writer of the system (CSV, manifest, encrypted media, reports, plots) ends here or in
:class:`jutaku.crypto.media.MediaWriter`, which follows the same rule. The bytes go to a new temporary
file in the target's folder, created by :func:`tempfile.mkstemp` (``O_EXCL``, mode 0600 whatever the
umask), and are renamed over the target only once complete: a reader never sees half a file, a crash leaves
no partial file under the target's name, a symbolic link planted at the target is replaced, not followed,
and every write makes a new file (inode), which is how :mod:`jutaku.exchange.outputs` recognises the file
it wrote (security checklist FILE-09, FILE-10).
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Final

from jutaku.formats.errors import FileRejected

#: Mode of every file the system writes.
PRIVATE_MODE: Final = 0o600
PART_SUFFIX: Final = ".part"


@contextmanager
def private_file(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary stream whose content becomes ``path`` (mode 0600) when the block ends without an error.

    On an error the temporary file is removed and ``path`` is left as it was (absent, or the old file).
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:100]}.", suffix=PART_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_private(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` as the whole content of ``path`` (mode 0600, see :func:`private_file`)."""
    with private_file(path) as fh:
        fh.write(data)


# --- reading ------------------------------------------------------------------------------------

def shown_path(path: str | os.PathLike[str]) -> str:
    """A path as a message shows it: control characters as ``?``, withheld if it holds a written My Number."""
    from jutaku.domain.free_text import shown

    text = os.fspath(path)
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return shown("".join(c if c.isprintable() else "?" for c in text))


def not_regular(path: str | os.PathLike[str], mode: int) -> FileRejected:
    """``R_NOT_FILE`` for a folder (said as such) or a device, pipe or socket."""
    where = shown_path(path)
    if stat.S_ISDIR(mode):
        return FileRejected("R_NOT_FILE", "a folder", what=f"フォルダが指定されました: {where}",
                            hint="フォルダの中の、取り込むファイルのパスを指定してください。")
    return FileRejected("R_NOT_FILE", what=f"通常のファイルではありません（デバイス・パイプ等）: {where}")


def cannot_open(path: str | os.PathLike[str], exc: OSError) -> FileRejected:
    """The refusal for an input that could not be opened or looked at: missing (``R_NOT_FOUND``, also a
    path through a file or too long), not readable (``R_UNREADABLE``), a folder (``R_NOT_FILE``)."""
    where = shown_path(path)
    if isinstance(exc, FileNotFoundError | NotADirectoryError) or exc.errno in (errno.ENAMETOOLONG, errno.ELOOP):
        return FileRejected("R_NOT_FOUND", what=f"ファイルが見つかりません: {where}")
    if isinstance(exc, IsADirectoryError):
        return not_regular(path, stat.S_IFDIR)
    if isinstance(exc, PermissionError):
        return FileRejected("R_UNREADABLE", "permission denied", what=f"ファイルを読み取る権限がありません: {where}")
    return FileRejected("R_UNREADABLE", type(exc).__name__, what=f"ファイルを読み取れません: {where}",
                        hint="ファイルのある場所（記録媒体・共有フォルダ）に接続できているか確認してください。")


def check_input(path: str | os.PathLike[str]) -> None:
    """Refuse, before anything opens it, an input path that is missing, unreadable or not a regular file
    (a device such as ``/dev/zero`` never ends, a FIFO blocks); readers still count bytes as well."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise cannot_open(path, exc) from None
    if not stat.S_ISREG(mode):
        raise not_regular(path, mode)
    if not os.access(path, os.R_OK):
        raise cannot_open(path, PermissionError(errno.EACCES, "permission denied"))


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open an input file for reading, refusing anything that is not a regular file (``R_NOT_FILE``).

    A device (``/dev/zero``, ``/dev/urandom``), a FIFO or a socket has no size and may never end, and
    opening a FIFO with no writer blocks: the file is opened without blocking, checked with ``fstat`` on
    the descriptor actually opened (no race with a rename), and only then read. Every reader still
    counts the bytes it actually reads against its limit (a regular file may grow while it is read).
    A missing file is ``R_NOT_FOUND`` and one that may not be read ``R_UNREADABLE`` (never "empty").
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise cannot_open(path, exc) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise not_regular(path, mode)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_limited(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The whole content of the regular file ``path``, refused (``R_SIZE``) past ``max_bytes`` actually read."""
    with open_regular(path) as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileRejected("R_SIZE", f"over {max_bytes} bytes")
    return data
