"""The registration's preparation stage in a second process (performance.md: "two processes").

The worker reads and validates the kit file, builds each row's :class:`Notification`, its blind index
and — speculatively, for every row with a valid number and a well-formed 個人ID — the number's
ciphertext under a *new* data key for that person (wrapped by the KEK, never stored by the worker).
The main process keeps everything that needs the database: the register lookups, the decision, the
inserts and the audit rows. For a row it accepts, it stores the worker's ciphertext and wrapped key;
if the person already has a data key, it re-encrypts under that key instead, so a person never has two.

The worker needs only the key files (no database); it runs under the ``spawn`` start method (no
inherited database connections). Its work on rows that end up rejected is wasted (a few percent).
It dies with the main process (:func:`_bind_to_parent`) and holds no more than one batch of rows: it
reads the next rows only once the main process has taken the last batch (:func:`prepare_and_send`).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
import pickle
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple

from jutaku.crypto.blind_index import BlindIndexer
from jutaku.crypto.envelope import FieldCipher, MemoryDekStore, WrappedDek
from jutaku.crypto.keyring import KeyRing
from jutaku.domain import my_number
from jutaku.domain.identifiers import is_person_id
from jutaku.domain.japanese import kana_key
from jutaku.domain.registration import Notification
from jutaku.domain.wareki import parse_birth_date, parse_date, parse_timestamp
from jutaku.formats.csvio import Row

CIPHER_TABLE = "registry_mynumberrecord"
CIPHER_COLUMN = "my_number"
#: Prepared batches the main process may hold ahead of its chunk (back-pressure bounds the memory).
#: The worker itself holds only the batch it is preparing (issue 13 item 8).
QUEUE_DEPTH = 4
#: How often the worker's watchdog checks that its parent is alive.
WATCHDOG_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


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
    # Only a well-formed 個人ID gets a data key: a malformed row (E00) may hold full-width digits, which the
    # key store refuses as a reference (issue 13 item 5: that refusal crashed the whole batch).
    sealable = {n.line_no: n for n in numbered if not n.malformed and is_person_id(n.person_id)}
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


def _bind_to_parent(parent: int) -> None:
    """Make this worker die with the main process (issue 13 item 8), however the main process ends.

    - the kernel sends SIGKILL when the parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``); if the parent
      died before the call, ``getppid()`` has already changed and the worker leaves at once;
    - a watchdog thread checks ``getppid()`` every half second (other systems, or a parent-death signal
      that could not be set);
    - a write to the pipe whose only reader was the parent fails (``BrokenPipeError``) and ends the worker;
    - stdout and stderr point to ``/dev/null``: the worker never holds the caller's terminal or pipes
      (a caller waiting for the end of the command's output would otherwise wait for an orphan).
    """
    _set_parent_death_signal()
    if os.getppid() != parent:
        os._exit(3)
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    threading.Thread(target=_watch_parent, args=(parent,), name="parent-watchdog", daemon=True).start()


def _set_parent_death_signal() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no libc prctl: the watchdog remains
        pass


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(3)
        time.sleep(WATCHDOG_SECONDS)


def prepare_and_send(spec: WorkerSpec, send: Callable[[tuple[str, Any]], None]) -> None:
    """Read, prepare and hand over the rows of ``spec.path`` one batch at a time.

    ``send`` blocks until the main process has taken the batch (a pipe, not a buffered queue), and the
    next rows are read only after it returns: the worker never holds more than the batch it is preparing.
    """
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
        chunk: list[Row] = []
        for row in reader:
            chunk.append(row)
            if len(chunk) >= spec.chunk_size:
                send(("rows", [to_wire(p) for p in prepare_chunk(chunk, cipher, store, indexer)]))
                chunk = []
        if chunk:
            send(("rows", [to_wire(p) for p in prepare_chunk(chunk, cipher, store, indexer)]))
    send(("end", None))


def _worker(spec: WorkerSpec, conn: Any, parent: int) -> None:
    _bind_to_parent(parent)
    try:
        prepare_and_send(spec, conn.send)
    except (BrokenPipeError, EOFError):  # the main process is gone: nobody to report to
        os._exit(3)
    except BaseException as exc:  # reported to the main process, which fails the job (class name only:
        try:  # exception text may quote the input)
            conn.send(("error", type(exc).__name__))
        except OSError:
            os._exit(3)
    finally:
        conn.close()


class PreparedStream:
    """Iterate the worker's prepared rows; a context manager that always stops the worker.

    The worker writes each batch into a pipe; a thread here reads the batches as bytes into a small queue
    (:data:`QUEUE_DEPTH` batches), so the worker can run ahead of the database work by that much while
    holding only its current batch itself. The rows are unpickled where they are used, on this thread.
    """

    def __init__(self, spec: WorkerSpec) -> None:
        ctx = mp.get_context("spawn")
        self.reader, writer = ctx.Pipe(duplex=False)
        self._writer = writer
        self.process = ctx.Process(target=_worker, args=(spec, writer, os.getpid()), daemon=True,
                                   name="jutaku-registration-prepare")
        self.batches: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE_DEPTH)
        self._receiver = threading.Thread(target=self._receive, name="jutaku-prepare-receiver", daemon=True)
        self._stop = threading.Event()

    def __enter__(self) -> Iterator[Prepared]:
        self.process.start()
        self._writer.close()  # the worker holds the only write end: its death is our end of file
        self._receiver.start()
        return self._rows()

    def _receive(self) -> None:
        """Move the worker's batches from the pipe into the queue; ``None`` marks the end of the pipe."""
        with contextlib.suppress(EOFError, OSError):
            while self._put(self.reader.recv_bytes()):
                pass
        self._put(None)

    def _put(self, item: bytes | None) -> bool:
        """Queue ``item`` as soon as there is room; ``False`` when the stream is being closed."""
        while not self._stop.is_set():
            try:
                self.batches.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def _rows(self) -> Iterator[Prepared]:
        while True:
            try:
                data = self.batches.get(timeout=1.0)
            except queue.Empty:
                continue
            if data is None:
                self.process.join(timeout=5)
                raise WorkerFailed(f"the preparation process ended (exit code {self.process.exitcode})")
            kind, payload = pickle.loads(data)  # noqa: S301 - our own worker, over a private pipe
            if kind == "rows":
                yield from map(from_wire, payload)
            elif kind == "end":
                return
            else:
                raise WorkerFailed(payload)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=10)
        self._receiver.join(timeout=10)
        self.reader.close()


class WorkerFailed(RuntimeError):
    """The preparation process failed; the job fails with it (the open chunk rolls back)."""
