"""The registration's preparation stage in a second process (performance.md: "two processes").

The worker reads and validates the kit file, builds each row's :class:`Notification`, its blind index
and — speculatively, for every row with a valid number and a well-formed 個人ID — the number's
ciphertext under a *new* data key for that person (wrapped by the KEK, never stored by the worker).
The main process keeps everything that needs the database: the register lookups, the decision, the
inserts and the audit rows. For a row it accepts, it stores the worker's ciphertext and wrapped key;
if the person already has a data key, it re-encrypts under that key instead, so a person never has two.

The worker needs only the key files (no database); it runs under the ``spawn`` start method (no
inherited database connections). Its work on rows that end up rejected is wasted (a few percent).
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from queue import Empty, Full
from typing import Any, NamedTuple

from jutaku.crypto.blind_index import BlindIndexer
from jutaku.crypto.envelope import FieldCipher, MemoryDekStore, WrappedDek
from jutaku.crypto.keyring import KeyRing
from jutaku.domain import my_number
from jutaku.domain.japanese import kana_key
from jutaku.domain.registration import Notification
from jutaku.domain.wareki import parse_birth_date, parse_date, parse_timestamp
from jutaku.formats.csvio import Row

CIPHER_TABLE = "registry_mynumberrecord"
CIPHER_COLUMN = "my_number"
#: Prepared chunks in flight between the processes (back-pressure bounds the memory).
QUEUE_DEPTH = 4


class PortalWishes(NamedTuple):
    """What a Mynaportal application states besides the number: 照会同意 (``None``: not stated),
    不開示希望, and when it was received (受付日時)."""

    consent: bool | None
    non_disclosure: bool
    received_at: datetime


class Prepared(NamedTuple):
    """One input row, ready for the decision. ``token``/``wrapped`` are speculative (see module doc);
    ``portal`` holds a well-formed portal application's wishes (``None`` for kit rows).

    A named tuple for speed (see :class:`Notification`); its ``repr`` shows no number, key or token.
    """

    note: Notification
    receipt_no: str
    id_document: str
    received: date | None
    error_columns: tuple[str, ...]
    blind_index: bytes | None
    token: bytes | None
    wrapped: WrappedDek | None
    portal: PortalWishes | None = None

    def __repr__(self) -> str:
        return f"Prepared({self.note!r}, error_columns={self.error_columns!r})"

    def __str__(self) -> str:
        return self.__repr__()


@dataclass(frozen=True)
class WorkerSpec:
    path: Path
    encoding: str | None
    keys_dir: Path
    production: bool
    chunk_size: int


def to_notification(row: Row) -> Notification:
    v = row.values
    number = my_number.normalise(v.get("個人番号", ""))
    valid = number if my_number.is_valid(number) else None
    if row.errors:
        return Notification(row.line_no, v.get("個人ID", ""), valid, "", None, "", malformed=True)
    return Notification(row.line_no, v["個人ID"], valid, kana_key(v["氏名カナ"]),
                        parse_birth_date(v["生年月日"]), v["性別"])


def id_document_of(source: str, row: Row) -> str:
    if source == "kit":
        return row.values.get("本人確認書類", "")
    return row.values.get("本人確認方法", "")[:20]


def received_of(source: str, row: Row) -> date | None:
    if source == "kit":
        return parse_date(row.values["受付日"])
    return parse_timestamp(row.values["受付日時"]).date()


def portal_wishes_of(source: str, row: Row) -> PortalWishes | None:
    if source != "portal" or row.errors:
        return None
    v = row.values
    return PortalWishes(None if not v.get("照会同意") else v["照会同意"] == "1", v.get("不開示希望") == "1",
                        parse_timestamp(v["受付日時"]))


def prepare_chunk(rows: list[Row], cipher: FieldCipher, store: MemoryDekStore,
                  indexer: BlindIndexer, source_name: str = "kit") -> list[Prepared]:
    """Prepare parsed rows (``formats.csvio.Row``) of one chunk."""
    notes = [to_notification(row) for row in rows]
    numbered = [n for n in notes if n.number is not None]
    indexes = dict(zip((n.line_no for n in numbered), indexer.compute_many(n.number or "" for n in numbered),
                       strict=True))
    sealable = {n.line_no: n for n in numbered if len(n.person_id) == 10 and n.person_id.isdigit()}
    firsts: dict[str, Notification] = {}
    for n in sealable.values():
        firsts.setdefault(n.person_id, n)  # one speculative key per person and chunk
    items = [(n.person_id, (n.number or "").encode("ascii")) for n in firsts.values()]
    tokens = dict(zip((n.line_no for n in firsts.values()),
                      cipher.encrypt_many(CIPHER_TABLE, CIPHER_COLUMN, items), strict=True))
    wrapped = dict(store.rows)
    store.rows.clear()
    cipher.cache.forget()
    out = []
    for row, note in zip(rows, notes, strict=True):
        token = tokens.get(note.line_no)
        out.append(Prepared(
            note, row.values.get("受付番号", "")[:20], id_document_of(source_name, row),
            received_of(source_name, row) if not row.errors else None,
            tuple(sorted({e.label for e in row.errors})), indexes.get(note.line_no), token,
            wrapped.get(note.person_id) if token is not None else None, portal_wishes_of(source_name, row)))
    return out


#: A prepared row as plain tuples for the pipe: pickling dataclasses cost ~13 µs a row, tuples ~3 µs.
Wire = tuple[Any, ...]


def to_wire(p: Prepared) -> Wire:
    n = p.note
    return (n.line_no, n.person_id, n.number, n.kana_key, n.birth_date, n.sex, n.malformed, p.receipt_no,
            p.id_document, p.received, p.error_columns, p.blind_index, p.token,
            tuple(p.wrapped) if p.wrapped is not None else None)


def from_wire(w: Wire) -> Prepared:
    note = Notification(w[0], w[1], w[2], w[3], w[4], w[5], w[6])
    return Prepared(note, w[7], w[8], w[9], w[10], w[11], w[12], WrappedDek(*w[13]) if w[13] else None)


def _put(queue: Any, item: tuple[str, Any], parent: int) -> None:
    """Put with back-pressure, but give up when the main process is gone (it was killed)."""
    while True:
        try:
            queue.put(item, timeout=1.0)
            return
        except Full:
            if os.getppid() != parent:
                os._exit(3)


def _worker(spec: WorkerSpec, queue: Any, parent: int) -> None:
    try:
        from jutaku.formats.csvio import read_csv
        from jutaku.formats.layouts import KIT

        ring = KeyRing.load(spec.keys_dir, production=spec.production)
        store = MemoryDekStore()
        cipher = FieldCipher(ring, store)
        indexer = BlindIndexer(ring.index_key)
        source: Any = spec.path
        if spec.path.name.endswith(".enc"):
            from jutaku.crypto.media import open_media

            source = open_media(spec.path, ring.media_key)
        with read_csv(source, KIT, encoding=spec.encoding) as reader:  # type: ignore[arg-type]
            chunk: list[Any] = []
            for row in reader:
                chunk.append(row)
                if len(chunk) >= spec.chunk_size:
                    _put(queue, ("rows", [to_wire(p) for p in prepare_chunk(chunk, cipher, store, indexer)]), parent)
                    chunk = []
            if chunk:
                _put(queue, ("rows", [to_wire(p) for p in prepare_chunk(chunk, cipher, store, indexer)]), parent)
        _put(queue, ("end", None), parent)
    except BaseException as exc:  # reported to the main process, which fails the job (class name only:
        _put(queue, ("error", type(exc).__name__), parent)  # exception text may quote the input)


class PreparedStream:
    """Iterate the worker's prepared rows; a context manager that always stops the worker."""

    def __init__(self, spec: WorkerSpec) -> None:
        ctx = mp.get_context("spawn")
        self.queue = ctx.Queue(maxsize=QUEUE_DEPTH)
        self.process = ctx.Process(target=_worker, args=(spec, self.queue, os.getpid()), daemon=True,
                                   name="jutaku-registration-prepare")

    def __enter__(self) -> Iterator[Prepared]:
        self.process.start()
        return self._rows()

    def _rows(self) -> Iterator[Prepared]:
        while True:
            try:
                kind, payload = self.queue.get(timeout=1.0)
            except Empty:
                if not self.process.is_alive():
                    raise WorkerFailed(f"the preparation process ended (exit code {self.process.exitcode})") from None
                continue
            if kind == "rows":
                yield from map(from_wire, payload)
            elif kind == "end":
                return
            else:
                raise WorkerFailed(payload)

    def __exit__(self, *exc: object) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=10)
        self.queue.close()
        self.queue.join_thread()


class WorkerFailed(RuntimeError):
    """The preparation process failed; the job fails with it (the open chunk rolls back)."""
