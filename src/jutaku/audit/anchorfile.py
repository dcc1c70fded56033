"""The anchor file: signed heads of the audit chain, appended outside the database (LOG-04; ADR 0014).

Self-contained (the standard library and ``cryptography`` only) so that an auditor can check a copy on
another machine, with the public key exported at install time::

    python -m jutaku.audit.anchorfile anchors.log --public-key anchor-public.pem [--earlier copy.log]
    python anchorfile.py anchors.log --public-key anchor-public.pem      # this file alone

One anchor a line (UTF-8, fields separated by one space, ``\\n`` at the end)::

    jutaku-anchor/v1 <n> <kind> <seq> <count> <hash> <time> <prev> <key> <sig>

``n`` the line number (1, 2, …); ``kind`` why it was written (:data:`KINDS`; ``restore`` marks a database
restored from a backup: anchors above its seq are superseded, the records between are lost); ``seq`` the
chain head (0: empty trail); ``count`` how many records the trail holds up to ``seq`` (equal to ``seq``
while no archive removes old records); ``hash`` the chain hash of record ``seq`` (64 zeros for 0);
``time`` UTC ``YYYY-MM-DDTHH:MM:SSZ``; ``prev`` SHA-256 hex of the previous line without its newline (64
zeros on line 1), so a line cannot be removed or changed without breaking the next; ``key`` the key id
(first 16 hex digits of SHA-256 of the raw Ed25519 public key); ``sig`` the Ed25519 signature (base64)
of the line up to and including ``key``.

A file verifies when every line parses, is numbered in order, links to the previous line, is signed by
the key and does not go backwards (``seq`` below an earlier anchor's, or another hash at the same ``seq``)
unless it is a ``restore``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION: Final = "jutaku-anchor/v1"
ZERO: Final = "0" * 64
KINDS: Final = ("start", "init", "job", "command", "event", "periodic", "manual", "restore")
_LINE: Final = re.compile(
    r"jutaku-anchor/v1 (?P<n>[1-9][0-9]{0,17}) (?P<kind>[a-z]{1,16}) (?P<seq>0|[1-9][0-9]{0,18}) "
    r"(?P<count>0|[1-9][0-9]{0,18}) (?P<hash>[0-9a-f]{64}) (?P<time>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
    r"[0-9]{2}Z) (?P<prev>[0-9a-f]{64}) (?P<key>[0-9a-f]{16}) (?P<sig>[A-Za-z0-9+/]{86}==)"
)


class AnchorFileError(ValueError):
    """The anchor file (or a copy of it) does not verify; ``line`` is 1-based (0: the file as a whole)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Anchor:
    n: int
    kind: str
    seq: int
    count: int
    hash: str
    time: str
    prev: str
    key: str
    raw: str = field(repr=False, default="")

    @property
    def digest(self) -> str:
        """What the next line carries as ``prev``."""
        return hashlib.sha256(self.raw.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class AnchorLog:
    """A verified file: its lines, and what the chain must still hold (seq → the anchor that says so)."""

    lines: tuple[Anchor, ...]
    expected: dict[int, Anchor]

    @property
    def newest(self) -> Anchor | None:
        return self.lines[-1] if self.lines else None

    @property
    def restores(self) -> tuple[Anchor, ...]:
        return tuple(a for a in self.lines if a.kind == "restore")


# ------------------------------------------------------------------------------------------------ keys


def generate_private_key() -> bytes:
    """32 raw bytes of a new Ed25519 private key (from the OS CSPRNG)."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def private_key(raw: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_pem(data: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise AnchorFileError(0, "the public key is not an Ed25519 key")
    return key


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# ----------------------------------------------------------------------------------------- write/read


#: Japan Standard Time, for what this file prints: it stands alone, so it cannot use jutaku.domain.jst (a
#: unit test keeps :func:`jst_text` equal to jutaku.domain.jst.format_time).
_JST: Final = timezone(timedelta(hours=9), "JST")


def jst_text(utc: str) -> str:
    """An anchor's ``time`` as people read it: ``2026-12-05T07:15:00Z`` → ``2026-12-05 16:15:00 JST``."""
    moment = datetime.strptime(utc, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return f"{moment.astimezone(_JST):%Y-%m-%d %H:%M:%S} JST"


def utc_text(now: datetime) -> str:
    if now.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_line(signer: Ed25519PrivateKey, *, previous: Anchor | None, kind: str, seq: int, count: int,
              hash_: str, now: datetime) -> Anchor:
    """The next line after ``previous`` (None: the first), signed; ``raw`` has no newline."""
    if kind not in KINDS:
        raise ValueError(f"unknown anchor kind {kind!r}")
    if seq < 0 or not 0 <= count <= seq or not re.fullmatch(r"[0-9a-f]{64}", hash_):
        raise ValueError("seq, count or hash out of range")
    n = 1 if previous is None else previous.n + 1
    prev = ZERO if previous is None else previous.digest
    body = f"{VERSION} {n} {kind} {seq} {count} {hash_} {utc_text(now)} {prev} {key_id(signer.public_key())}"
    raw = f"{body} {base64.b64encode(signer.sign(body.encode('ascii'))).decode('ascii')}"
    return parse_line(raw)


def parse_line(raw: str) -> Anchor:
    """One line, without checking its signature or its place in the file."""
    m = _LINE.fullmatch(raw)
    if m is None:
        raise AnchorFileError(0, "not a jutaku-anchor/v1 line")
    if m["kind"] not in KINDS or int(m["count"]) > int(m["seq"]):
        raise AnchorFileError(0, "unknown kind, or count above seq")
    try:
        datetime.strptime(m["time"], "%Y-%m-%dT%H:%M:%SZ")  # noqa: DTZ007 - the Z says UTC
    except ValueError as exc:
        raise AnchorFileError(0, "not a valid time") from exc
    return Anchor(n=int(m["n"]), kind=m["kind"], seq=int(m["seq"]), count=int(m["count"]), hash=m["hash"],
                  time=m["time"], prev=m["prev"], key=m["key"], raw=raw)


def check_signature(anchor: Anchor, key: Ed25519PublicKey) -> None:
    if anchor.key != key_id(key):
        raise AnchorFileError(anchor.n, "signed by another key")
    body, _, sig = anchor.raw.rpartition(" ")
    try:
        raw = base64.b64decode(sig, validate=True)
        if base64.b64encode(raw).decode("ascii") != sig:  # one spelling only (the unused bits are zero)
            raise InvalidSignature
        key.verify(raw, body.encode("ascii"))
    except (InvalidSignature, binascii.Error) as exc:
        raise AnchorFileError(anchor.n, "the signature does not verify") from exc


def read(text: str, key: Ed25519PublicKey) -> AnchorLog:
    """Parse and verify a whole file (see the module docstring); raise :class:`AnchorFileError`."""
    if text and not text.endswith("\n"):
        raise AnchorFileError(0, "the last line is incomplete (a write was cut short, or the file was cut)")
    lines: list[Anchor] = []
    expected: dict[int, Anchor] = {}
    for number, raw in enumerate(text.split("\n")[:-1], start=1):
        try:
            anchor = parse_line(raw)
        except AnchorFileError as exc:
            raise AnchorFileError(number, exc.reason) from None
        _check_place(anchor, number, lines[-1] if lines else None)
        check_signature(anchor, key)
        _expect(expected, anchor)
        lines.append(anchor)
    return AnchorLog(tuple(lines), expected)


def _check_place(anchor: Anchor, number: int, previous: Anchor | None) -> None:
    if anchor.n != number:
        raise AnchorFileError(number, f"numbered {anchor.n} (lines removed, added or reordered)")
    if anchor.prev != (ZERO if previous is None else previous.digest):
        raise AnchorFileError(number, "does not link to the line before it (a line was changed or removed)")


def _expect(expected: dict[int, Anchor], anchor: Anchor) -> None:
    """Add what ``anchor`` says; a restore supersedes the anchors above its seq, others may not go back."""
    if anchor.kind == "restore":
        for seq in [s for s in expected if s > anchor.seq]:
            del expected[seq]
    elif expected and anchor.seq < max(expected):
        raise AnchorFileError(anchor.n, f"goes backwards (seq {anchor.seq} after seq {max(expected)})")
    same = expected.get(anchor.seq)
    if same is not None and same.hash != anchor.hash:
        raise AnchorFileError(anchor.n, f"another hash for seq {anchor.seq} than line {same.n}")
    expected[anchor.seq] = anchor


def check_extends(local: Sequence[Anchor], earlier: Sequence[Anchor]) -> None:
    """``local`` must begin with every line of ``earlier`` (an auditor's copy taken before)."""
    if not earlier:
        return
    last = earlier[-1]
    if len(local) < len(earlier):
        raise AnchorFileError(len(local) + 1, f"the copy has {len(earlier)} lines, this file only {len(local)}")
    if local[last.n - 1].raw != last.raw:
        raise AnchorFileError(last.n, "differs from the copy (the file was rewritten)")


def merged_expectations(logs: Iterable[AnchorLog]) -> dict[int, Anchor]:
    """What the chain must hold according to several verified files (the local one and copies)."""
    out: dict[int, Anchor] = {}
    for log in logs:
        for seq, anchor in log.expected.items():
            if seq not in out or out[seq].n < anchor.n:
                out[seq] = anchor
    return out


# -------------------------------------------------------------------------------------- stand-alone


def main(argv: Sequence[str] | None = None) -> int:
    """Verify an anchor file's signatures off the machine; exit 0 when it verifies, 1 when not."""
    parser = argparse.ArgumentParser(description="Verify a Jutaku audit anchor file (signatures, order, links).")
    parser.add_argument("anchors", type=Path)
    parser.add_argument("--public-key", type=Path, required=True, help="anchor-public.pem copied at install")
    parser.add_argument("--earlier", type=Path, help="an earlier copy that the file must begin with")
    args = parser.parse_args(argv)
    try:
        key = load_public_pem(args.public_key.read_bytes())
        log = read(args.anchors.read_text(encoding="ascii"), key)
        if args.earlier is not None:
            check_extends(log.lines, read(args.earlier.read_text(encoding="ascii"), key).lines)
    except (OSError, ValueError) as exc:
        print(f"アンカーファイルの検証に失敗しました (anchor file BROKEN): {exc}")
        return 1
    newest = log.newest
    where = f"最新 seq {newest.seq} ({jst_text(newest.time)})" if newest else "アンカーなし (no anchors)"
    print(f"アンカーファイルは正常です (anchor file verifies): {len(log.lines)} 行, 鍵 {key_id(key)}, {where}, "
          f"リストア {len(log.restores)} 回")
    return 0


if __name__ == "__main__":
    sys.exit(main())
