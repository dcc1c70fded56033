"""Importing the linkage server's answers (団体内統合利用番号 取得結果): ``jutaku linkage import``.

Whole-file checks, media ledger, duplicate file = no-op and chunked resumable job come from the import
frame (:func:`jutaku.registry.importing.run_import`). Each row ends in one outcome of
:class:`jutaku.domain.linkage.LinkageOutcome`; only ``OK`` stores a number. ``N01``/``N09`` close the
request and go, with every error row, on the follow-up list (the rejection list of the job), never
with a number. Rows are applied in file order, so a second answer to one request is ``L02``. An integrated
number marked for re-acquisition (the My Number was changed, :mod:`jutaku.linkage.reacquire`) does not
count as held: the answer to the new request replaces it, which ends the mark.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from datetime import UTC, datetime
from pathlib import Path

from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record_many
from jutaku.crypto.blind_index import INTEGRATED_NUMBER, get_indexer
from jutaku.crypto.envelope import FieldCipher
from jutaku.dbutil import adapter, bulk_insert, bulk_update, select_in, update_in
from jutaku.domain.linkage import LABELS, LinkageOutcome, decide
from jutaku.formats.csvio import Row
from jutaku.formats.layouts import LINKAGE_RESULT_LAYOUT
from jutaku.jobs.runner import ChunkContext
from jutaku.linkage.dispatch import SENT_ONLY
from jutaku.linkage.models import IntegratedNumber, LinkageRequest
from jutaku.registry.importing import ImportResult, run_import
from jutaku.registry.models import ImportRejection

KIND = "linkage-import"
CIPHER_TABLE = "linkage_integratednumber"
CIPHER_COLUMN = "integrated_number"

_REQUESTS_SQL = ("SELECT r.id, r.request_no, r.person_id, p.person_id, r.state FROM linkage_linkagerequest r "  # noqa: S608 - constant SQL fragments only
                 f"JOIN registry_person p ON p.id = r.person_id {SENT_ONLY} "
                 "WHERE r.request_no {in}")
_OWNERS_SQL = "SELECT blind_index, person_id FROM linkage_integratednumber WHERE blind_index {in}"
_HELD_SQL = "SELECT person_id, blind_index, reacquire_since FROM linkage_integratednumber WHERE person_id {in}"
_CLOSED_STATE = {LinkageOutcome.OK: "answered", LinkageOutcome.NOT_FOUND: "not_found",
                 LinkageOutcome.SERVER_ERROR: "error"}


class _Handler:
    def __init__(self, duplicates: set[Hashable]) -> None:
        del duplicates  # rows are applied in order: a repeated 要求番号 finds its request answered (L02)
        self.cipher = FieldCipher()
        self.indexer = get_indexer(context=INTEGRATED_NUMBER)
        self.adapt_time = adapter(IntegratedNumber, "linked_at")
        self.replaced: set[int] = set()  # persons of the chunk whose marked number an answer replaces

    def __call__(self, chunk: list[tuple[int, Row]], ctx: ChunkContext) -> Counter[str]:
        rows = [row for _, row in chunk]
        requests = {no: (int(rid), int(ppk), pid, state) for rid, no, ppk, pid, state in
                    select_in(_REQUESTS_SQL, sorted({r.values.get("要求番号", "") for r in rows}))}
        index_of = {r.line_no: self.indexer.compute_canonical(n) for r in rows
                    if len(n := r.values.get("団体内統合利用番号", "")) == 15 and n.isascii() and n.isdigit()}
        owners = {bytes(bi): int(ppk) for bi, ppk in select_in(_OWNERS_SQL, sorted(set(index_of.values())))}
        held: dict[int, bytes] = {}
        self.replaced = set()
        for ppk, bi, since in select_in(_HELD_SQL, sorted({req[1] for req in requests.values()})):
            if since is None:
                held[int(ppk)] = bytes(bi)
            else:
                self.replaced.add(int(ppk))
        counts: Counter[str] = Counter()
        stored: list[tuple[int, str, str, bytes, int]] = []  # person pk, 個人ID, number, index, request id
        closed: list[tuple[str, str, int]] = []  # state, error text, request id
        rejected: list[tuple[Row, LinkageOutcome]] = []
        audit: list[AuditEntry] = []
        for row in rows:
            v = row.values
            req = requests.get(v.get("要求番号", ""))
            bi = index_of.get(row.line_no)
            number = v.get("団体内統合利用番号", "")
            outcome = decide(
                malformed=bool(row.errors), result_code=v.get("結果コード", ""), number=number,
                request_open=None if req is None else req[3] in LinkageRequest.OPEN_STATES,
                same_person=req is not None and req[2] == v.get("個別業務システム利用番号"),
                owner_is_other=bi is not None and req is not None and owners.get(bi, req[1]) != req[1],
                person_holds_other=bi is not None and req is not None and held.get(req[1], bi) != bi)
            counts[outcome.value] += 1
            if outcome in _CLOSED_STATE and req is not None:
                rid, ppk, pid, _ = req
                requests[v["要求番号"]] = (rid, ppk, pid, _CLOSED_STATE[outcome])
                closed.append((_CLOSED_STATE[outcome], v.get("エラー内容", "")[:200] if outcome is
                               LinkageOutcome.SERVER_ERROR else "", rid))
                if outcome is LinkageOutcome.OK and bi is not None and held.get(ppk) is None:
                    stored.append((ppk, pid, number, bi, rid))
                    owners[bi], held[ppk] = ppk, bi
            event = AuditEvent.LINKAGE_STORE if outcome is LinkageOutcome.OK else AuditEvent.LINKAGE_REJECT
            audit.append(AuditEntry(event, [req[2] if req is not None else f"line:{row.line_no}"], outcome.value,
                                    {"source": "linkage-result"}))
            if outcome is not LinkageOutcome.OK:
                rejected.append((row, outcome))
        self._store(stored, ctx.job_id)
        now = self.adapt_time(datetime.now(UTC))
        # One statement per state (a statement per row is slow on PostgreSQL); error texts row by row (few).
        for state in ("answered", "not_found", "error"):
            update_in(LinkageRequest, {"state": state, "answered_at": now, "answered_job": ctx.job_id}, "id",
                      [rid for st, _, rid in closed if st == state])
        bulk_update(LinkageRequest, "id", ("error_text",), [(text, rid) for _, text, rid in closed if text])
        bulk_insert(ImportRejection, ("job_id", "line_no", "receipt_no", "person_id", "code", "reason"), [
            (ctx.job_id, row.line_no, _safe_request_no(row.values.get("要求番号", "")),
             requests[row.values["要求番号"]][2] if row.values.get("要求番号") in requests else "",
             outcome.value, LABELS[outcome.value]) for row, outcome in rejected])
        record_many(audit, actor=ctx.actor, job_id=ctx.job_id)
        return counts

    def _store(self, stored: list[tuple[int, str, str, bytes, int]], job_id: int) -> None:
        if not stored:
            return
        tokens = self.cipher.encrypt_many(CIPHER_TABLE, CIPHER_COLUMN,
                                          [(pid, number.encode("ascii")) for _, pid, number, _, _ in stored])
        now = self.adapt_time(datetime.now(UTC))
        replaced = [ppk for ppk, _, _, _, _ in stored if ppk in self.replaced]
        if replaced:  # the marked number gives way to the one obtained with the new My Number
            IntegratedNumber.objects.filter(person_id__in=replaced).delete()
        bulk_insert(IntegratedNumber, ("person", "ciphertext", "blind_index", "request", "linked_at", "job_id"), [
            (ppk, token, bi, rid, now, job_id) for (ppk, _, _, bi, rid), token in zip(stored, tokens, strict=True)])


def _safe_request_no(value: str) -> str:
    """Our own ids are short ASCII; anything else from the file is cut, never echoed whole."""
    return value[:20] if value.isascii() and value.isalnum() else ""


def import_linkage_results(path: Path, *, actor: Actor, dry_run: bool = False, progress: bool = False,
                           encoding: str | None = None, chunk_size: int = 20_000) -> ImportResult:
    """``jutaku linkage import FILE``; raises ``FileRejected`` for a file refused whole."""
    return run_import(path, LINKAGE_RESULT_LAYOUT, KIND, key=None, handler=_Handler,
                      actor=actor, dry_run=dry_run, progress=progress, encoding=encoding, chunk_size=chunk_size)
