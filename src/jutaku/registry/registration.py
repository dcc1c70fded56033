"""Bulk registration of My Numbers (F1 個人番号一括登録) from the kit file or the portal download.

``register_numbers`` is the one service function behind ``jutaku register kit|portal`` and the web UI.
Each row ends in exactly one outcome of :class:`jutaku.domain.registration.Outcome` (interfaces.md);
``E`` rows register nothing and go to the rejection list (差戻リスト). The rules live in
:mod:`jutaku.domain.registration`; this module loads what they need in bulk and applies the result.

A portal application also states 照会同意 and 不開示希望: they are recorded with their source
(:mod:`jutaku.registry.portal_wishes`) in the same chunk transaction, under the rules of
:mod:`jutaku.domain.wishes` (the wish whenever the application identifies its person, even if its number
is rejected; the consent only from an accepted application).

Pipeline (all streaming; the file is read three times at most, never held in memory):

1. whole-file checks (encoding, header, limits, manifest, ZIP/XML safety): a bad file is refused whole;
   the same pass feeds the conflict pre-pass: (person, number) pairs of rows with a valid number, kept
   as integers; persons or numbers with more than one partner are *candidates*;
2. only when there are candidates the file is read once more to identify them exactly (E00–E03 rows
   take no part in conflicts);
3. the job: a second process prepares the rows (:mod:`jutaku.registry.pipeline`: parse, validate,
   blind index, speculative encryption); per chunk of 50,000 rows one transaction here holds the
   register lookups, the decisions, the numbers stored, the rejections, the audit rows and the job
   cursor. A crash loses at most the open chunk; the rerun resumes after the last commit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from django.db import transaction

from jutaku import config
from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record_many
from jutaku.crypto.blind_index import get_indexer
from jutaku.crypto.envelope import FieldCipher, MemoryDekStore
from jutaku.crypto.keyring import get_keyring
from jutaku.dbutil import adapter, as_date, bulk_insert, select_in
from jutaku.domain import my_number
from jutaku.domain.identifiers import is_person_id
from jutaku.domain.registration import (
    Held,
    KnownPerson,
    Notification,
    Outcome,
    conflicting_lines,
    decide,
    identify,
)
from jutaku.domain.wishes import identifies, portal_effects
from jutaku.exchange import inbound
from jutaku.exchange.media import MediaFile, record_media, record_refused
from jutaku.formats.csvio import Row
from jutaku.formats.errors import FileRejected
from jutaku.formats.layouts import KIT, PORTAL, REGISTRATION_OUTCOME, Layout
from jutaku.formats.portal import prescan_portal, read_portal_zip
from jutaku.formats.validate import compile_layout
from jutaku.jobs.runner import ChunkContext, JobResult, run_job
from jutaku.registry.models import ImportRejection, MyNumberRecord, Person
from jutaku.registry.pipeline import (
    CIPHER_COLUMN,
    CIPHER_TABLE,
    Prepared,
    PreparedStream,
    WorkerSpec,
    prepare_chunk,
    to_notification,
)
from jutaku.registry.portal_wishes import record_portal_wishes

KINDS = {"kit": "register-kit", "portal": "register-portal"}
#: Rows per committed chunk. Large on purpose: each commit writes every index page the chunk touched
#: (random keys), so 50,000-row chunks write far less than 5,000-row ones (ADR 0008, measured).
CHUNK_SIZE = 50_000
#: Rows per preparation batch (worker → main), independent of the chunk: bounds the pipe's memory.
PREPARE_BATCH = 5_000


@dataclass(frozen=True)
class RegistrationResult:
    job: JobResult
    file_sha256: str
    rows: int
    source: str


@dataclass(frozen=True)
class _Source:
    """One input file: its kind, layout and a way to read its rows afresh."""

    name: str
    layout: Layout
    path: Path
    open_rows: Callable[[], AbstractContextManager[Iterable[Row]]]
    #: The rows with only their width checked (cheaper), for the pass that keeps a few of them.
    open_unchecked: Callable[[], AbstractContextManager[Iterable[Row]]] | None = None


_OWNERS_SQL = ("SELECT m.blind_index, p.person_id FROM registry_mynumberrecord m "
               "JOIN registry_person p ON p.id = m.person_id WHERE m.blind_index {in}")
#: One query per chunk for the register and what each person holds.
_CHUNK_SQL = ("SELECT p.id, p.person_id, p.kana_key, p.birth_date, p.sex, p.status, m.blind_index "
              "FROM registry_person p LEFT JOIN registry_mynumberrecord m ON m.person_id = p.id "
              "WHERE p.person_id {in}")



def lookup_persons(person_ids: Iterable[str]) -> tuple[dict[str, tuple[int, KnownPerson]], dict[str, bytes]]:
    """For these persons, in one query per 5,000: the register's identity data and the number each
    holds (blind index)."""
    current = str(Person.Status.CURRENT)
    persons: dict[str, tuple[int, KnownPerson]] = {}
    held: dict[str, bytes] = {}
    for pk, pid, key, birth, sex, status, bi in select_in(_CHUNK_SQL, sorted(set(person_ids))):
        # A deleted person's shell has no birth date: nothing matches it (E03), nothing is registered.
        persons[pid] = (pk, KnownPerson(key, as_date(birth) if birth is not None else None, sex, status == current))
        if bi is not None:
            held[pid] = bytes(bi)
    return persons, held


def known_persons(person_ids: Iterable[str]) -> dict[str, tuple[int, KnownPerson]]:
    """The register's identity data for these persons."""
    return lookup_persons(person_ids)[0]


class ConflictFinder:
    """The conflict pre-pass (module docstring, step 2): ``visit`` every row, then :meth:`resolve`.

    ``visit`` may see unvalidated rows (it keeps a superset of the candidates); :meth:`resolve` reads
    the candidates again, validated, and identifies them exactly.
    """

    _MANY = -1

    def __init__(self) -> None:
        self.partner_of_person: dict[int, int] = {}
        self.partner_of_number: dict[int, int] = {}

    def visit(self, row: Row) -> None:
        number = my_number.normalise(row.values.get("個人番号", ""))
        pid = row.values.get("個人ID", "")
        if not is_person_id(pid) or not my_number.is_valid(number):
            return
        p, n = int(pid), int(number)
        if self.partner_of_person.setdefault(p, n) != n:
            self.partner_of_person[p] = self._MANY
        if self.partner_of_number.setdefault(n, p) != p:
            self.partner_of_number[n] = self._MANY

    def resolve(self, source: _Source) -> set[int]:
        many = self._MANY
        persons = {p for p, n in self.partner_of_person.items() if n == many}
        numbers = {n for n, p in self.partner_of_number.items() if p == many}
        self.partner_of_person.clear()
        self.partner_of_number.clear()
        if not persons and not numbers:
            return set()
        notes: list[Notification] = []
        validator = compile_layout(source.layout)
        with (source.open_unchecked or source.open_rows)() as rows:
            for row in rows:
                pid = row.values.get("個人ID", "")
                number = my_number.normalise(row.values.get("個人番号", ""))
                if (is_person_id(pid) and my_number.is_valid(number)
                        and (int(pid) in persons or int(number) in numbers)):
                    if source.open_unchecked is not None and not row.errors:
                        row = Row(row.line_no, *validator(list(row.values.values())))
                    note = to_notification(row)
                    if note.number is not None:
                        notes.append(note)
        known = known_persons(n.person_id for n in notes)
        identified = [(n.line_no, n.person_id, n.number) for n in notes
                      if identify(n, known.get(n.person_id, (0, None))[1]) is None and n.number is not None]
        return conflicting_lines(identified)


def find_conflicts(source: _Source) -> set[int]:
    """Both passes of the conflict pre-pass over ``source`` (for sources not scanned by ``inspect``)."""
    finder = ConflictFinder()
    with source.open_rows() as rows:
        for row in rows:
            finder.visit(row)
    return finder.resolve(source)


class _Handler:
    """Applies one chunk of prepared rows: decide, store the OK numbers, record rejections and audit."""

    def __init__(self, source_name: str, conflicts: set[int]) -> None:
        self.source_name = source_name
        self.conflicts = conflicts
        self.cipher = FieldCipher()
        self.adapt_date = adapter(MyNumberRecord, "received_date")
        self.adapt_time = adapter(MyNumberRecord, "registered_at")

    def __call__(self, chunk: list[tuple[int, Prepared]], ctx: ChunkContext) -> Counter[str]:
        preps = [p for _, p in chunk]
        persons, held = lookup_persons(p.note.person_id for p in preps)
        owners = {bytes(bi): pid for bi, pid in select_in(_OWNERS_SQL, [p.blind_index for p in preps if p.blind_index])}
        counts: Counter[str] = Counter()
        accepted: list[Prepared] = []
        rejected: list[tuple[Prepared, Outcome]] = []
        declared: list[tuple[Prepared, Outcome]] = []
        audit: list[AuditEntry] = []
        detail = {"source": self.source_name}
        for prep in preps:
            note, bi = prep.note, prep.blind_index
            mine = held.get(note.person_id)
            state = Held.NOTHING if mine is None else (Held.SAME if mine == bi else Held.OTHER)
            known = persons.get(note.person_id, (0, None))[1]
            outcome = decide(note, known, owner=owners.get(bi) if bi else None,
                             held=state, in_conflict=note.line_no in self.conflicts)
            counts[outcome.value] += 1
            if prep.portal is not None and portal_effects(outcome, identifies(note, known))[0]:
                declared.append((prep, outcome))
            if outcome is Outcome.OK and bi is not None:
                accepted.append(prep)
                owners[bi], held[note.person_id] = note.person_id, bi
                audit.append(AuditEntry(AuditEvent.NUMBER_STORE, [note.person_id], outcome.value, detail))
            else:
                if outcome is not Outcome.ALREADY_REGISTERED:
                    rejected.append((prep, outcome))
                event = AuditEvent.NUMBER_STORE if outcome is Outcome.ALREADY_REGISTERED else AuditEvent.PERSON_REJECT
                audit.append(AuditEntry(event, [_object_id(note)], outcome.value, detail))
        self._store(accepted, persons, ctx.job_id)
        self._reject(rejected, ctx.job_id)
        audit.extend(record_portal_wishes(declared, {pid: pk for pid, (pk, _) in persons.items()}, ctx.job_id))
        record_many(audit, actor=ctx.actor, job_id=ctx.job_id)
        return counts

    def _tokens(self, accepted: list[Prepared]) -> list[bytes]:
        """The prepared ciphertexts, with their new data keys stored; re-encrypted where a key exists.

        The new keys are inserted "unless the person has one"; only when some were not inserted (the
        person had a key already, a rare case) are the stored keys read, and those persons' numbers
        encrypted again under them, so that a person never has two keys.
        """
        store = self.cipher.cache.store
        fresh = [p.wrapped for p in accepted if p.token is not None and p.wrapped is not None]
        existing: set[str] = set()
        if store.insert(fresh, on_commit=lambda: None) != len(fresh):
            ours = {w.person_ref: w.wrapped for w in fresh}
            existing = {ref for ref, row in store.fetch(list(ours)).items() if row.wrapped != ours[ref]}
        redo = [p for p in accepted if p.token is None or p.wrapped is None or p.note.person_id in existing]
        again = dict(zip((p.note.line_no for p in redo), self.cipher.encrypt_many(CIPHER_TABLE, CIPHER_COLUMN, [
            (p.note.person_id, (p.note.number or "").encode("ascii")) for p in redo]), strict=True))
        return [again.get(p.note.line_no, p.token or b"") for p in accepted]

    def _store(self, accepted: list[Prepared], persons: dict[str, tuple[int, KnownPerson]], job_id: int) -> None:
        if not accepted:
            return
        tokens = self._tokens(accepted)
        now = self.adapt_time(datetime.now(UTC))
        bulk_insert(MyNumberRecord, ("person", "ciphertext", "blind_index", "source", "receipt_no", "id_document",
                                     "received_date", "job_id", "registered_at"), [
            (persons[p.note.person_id][0], token, p.blind_index, self.source_name, p.receipt_no, p.id_document,
             self.adapt_date(p.received), job_id, now)
            for p, token in zip(accepted, tokens, strict=True)])

    def _reject(self, rejected: list[tuple[Prepared, Outcome]], job_id: int) -> None:
        bulk_insert(ImportRejection, ("job_id", "line_no", "receipt_no", "person_id", "code", "reason"), [
            (job_id, p.note.line_no, p.receipt_no, _safe_person_id(p.note.person_id), outcome.value,
             _reason(p.error_columns, outcome)) for p, outcome in rejected])


def prepare_in_process(rows: Iterable[Row], source_name: str, chunk_size: int) -> Iterator[Prepared]:
    """The preparation stage in this process (portal files, or ``workers=0``)."""
    ring = get_keyring()
    store = MemoryDekStore()
    cipher = FieldCipher(ring, store)
    indexer = get_indexer()
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= chunk_size:
            yield from prepare_chunk(chunk, cipher, store, indexer, source_name)
            chunk = []
    if chunk:
        yield from prepare_chunk(chunk, cipher, store, indexer, source_name)


def _safe_person_id(value: str) -> str:
    """Only a well-formed 個人ID goes on the rejection list (a malformed cell might hold anything)."""
    return value if is_person_id(value) else ""


def _object_id(note: Notification) -> str:
    pid = _safe_person_id(note.person_id)
    return pid or f"line:{note.line_no}"


def _reason(error_columns: tuple[str, ...], outcome: Outcome) -> str:
    text = REGISTRATION_OUTCOME[outcome.value]
    if outcome is Outcome.MALFORMED and error_columns:
        text += "（" + "、".join(error_columns) + "）"
    return text[:400]


def _kit_source(path: Path, encoding: str | None, finder: ConflictFinder) -> tuple[_Source, MediaFile, int]:
    inb = inbound.inspect(path, KIT, encoding=encoding, visit=finder.visit)
    media = MediaFile(path, KIT.name, inb.info.sha256, inb.info.size, inb.info.rows, inb.encrypted, inb.key_id)
    return _Source("kit", KIT, path, inb.rows, partial(inb.rows, validate=False)), media, inb.info.rows


def _portal_rows(path: Path) -> Iterator[Row]:
    # Applications are processed in 受付番号 order, whatever the order of the archive's entries. The
    # archive's limits are the reader's documented ones (docs/formats/portal.md): one set, one place.
    yield from sorted(read_portal_zip(path), key=lambda r: r.values.get("受付番号", ""))


def _portal_source(path: Path) -> tuple[_Source, MediaFile, int]:
    info = prescan_portal(path)
    media = MediaFile(path, PORTAL.name, info.sha256, info.size, info.rows)
    return _Source("portal", PORTAL, path, lambda: nullcontext(_portal_rows(path))), media, info.rows


@contextmanager
def _prepared(src: _Source, encoding: str | None, chunk_size: int, workers: int) -> Iterator[Iterable[Prepared]]:
    """The prepared rows of ``src``: from a second process for kit files when ``workers``, else in process."""
    if src.name == "kit" and workers > 0:
        cfg = config.get()
        spec = WorkerSpec(src.path, encoding, cfg.keys_dir, cfg.is_production, min(chunk_size, PREPARE_BATCH))
        with PreparedStream(spec) as stream:
            yield stream
        return
    with src.open_rows() as rows:
        yield prepare_in_process(rows, src.name, min(chunk_size, PREPARE_BATCH))


def register_numbers(path: Path, *, source: str, actor: Actor, dry_run: bool = False, progress: bool = True,
                     encoding: str | None = None, chunk_size: int = CHUNK_SIZE,
                     workers: int = 1) -> RegistrationResult:
    """Register the My Numbers of a kit CSV (``source="kit"``) or a portal ZIP (``source="portal"``).

    ``workers=1`` prepares kit rows in a second process (parse, validate, blind index, encryption);
    ``0`` keeps everything in this process. Outcomes and stored data are the same either way.
    Raises ``FileRejected`` when the file is refused whole (nothing applied) and the runner's
    ``JobRefused`` when another registration is running.
    """
    if source not in KINDS:
        raise ValueError(f"unknown source {source!r}")
    finder = ConflictFinder()
    try:
        src, media, rows = _kit_source(path, encoding, finder) if source == "kit" else _portal_source(path)
    except FileRejected as exc:
        record_refused(path, source, exc.code, actor=actor)
        raise
    with transaction.atomic():
        record_media("read", media, actor=actor)
    conflicts = finder.resolve(src) if source == "kit" else find_conflicts(src)
    with _prepared(src, encoding, chunk_size, workers) as items:
        result = run_job(KINDS[source], items=items, input_sha256=media.sha256, input_name=path.name, actor=actor,
                         handler=_Handler(src.name, conflicts), total=rows, dry_run=dry_run, progress=progress,
                         chunk_size=chunk_size)
    return RegistrationResult(job=result, file_sha256=media.sha256, rows=rows, source=source)
