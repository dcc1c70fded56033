"""Where the CLI keeps its session token: ``$HOME/.jutaku/sessions/<home id>`` (0600, folders 0700).

One file per Jutaku home (the id is a hash of the home's path), so sessions on different homes do
not mix, and per person where the kernel knows who logged in (``-<audit login uid>``: staff who run the
command through ``sudo -u`` as one service account keep apart sessions). The file holds only the random
token; the database holds only its SHA-256, and the session is bound to the OS user and the login session
that opened it (ADR 0018): a copy of the file elsewhere is refused.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path


def path_for(home: Path, environ: Mapping[str, str], *, loginuid: int | None = None) -> Path:
    user_home = Path(environ.get("HOME") or Path.home())
    digest = hashlib.sha256(str(home.resolve()).encode("utf-8")).hexdigest()[:32]
    return user_home / ".jutaku" / "sessions" / (digest if loginuid is None else f"{digest}-{loginuid}")


def write(path: Path, token: str) -> None:
    for folder in (path.parent.parent, path.parent):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(token + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read(path: Path) -> str | None:
    """The token, or None when there is no file or it is readable by others (then it is ignored)."""
    try:
        if path.stat().st_mode & 0o077:
            return None
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text or None


def remove(path: Path) -> None:
    path.unlink(missing_ok=True)
