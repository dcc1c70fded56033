"""Checkpoint files of before ADR 0014: the chain's (seq, hash) at a moment, kept outside the database.

Format (UTF-8 text, one value a line, after the C2SP tlog-checkpoint layout)::

    jutaku-audit/v1
    <seq>
    <hash hex>
    <UTC time, ISO 8601>

Unsigned. Superseded by the signed anchors (:mod:`jutaku.audit.anchors`, ADR 0014), which
`jutaku audit verify` always checks; files auditors already hold are still read by
`jutaku audit verify --checkpoint`.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from jutaku.audit.verify import Checkpoint

ORIGIN: Final = "jutaku-audit/v1"
_HASH: Final = re.compile(r"[0-9a-f]{64}")


def format_checkpoint(cp: Checkpoint) -> str:
    return f"{ORIGIN}\n{cp.seq}\n{cp.hash}\n{cp.at}\n"


def parse(text: str) -> Checkpoint:
    lines = text.splitlines()
    if len(lines) < 4 or lines[0] != ORIGIN:
        raise ValueError("not a jutaku-audit/v1 checkpoint")
    if not lines[1].isascii() or not lines[1].isdigit() or not _HASH.fullmatch(lines[2]):
        raise ValueError("malformed seq or hash")
    datetime.fromisoformat(lines[3])
    return Checkpoint(seq=int(lines[1]), hash=lines[2], at=lines[3])


def read(path: Path) -> Checkpoint:
    return parse(path.read_text(encoding="utf-8"))


def write(path: Path, *, seq: int, hash_: str, now: datetime | None = None) -> Checkpoint:
    """Write a new checkpoint file (0600; refuses to overwrite)."""
    at = (now or datetime.now(tz=UTC)).astimezone(UTC).isoformat(timespec="seconds")
    cp = Checkpoint(seq=seq, hash=hash_, at=at)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(format_checkpoint(cp))
    return cp
