"""Importing inquiry results (情報照会結果の取込, F4): ``jutaku inquiry import FILE``.

Each row is matched by 要求番号, 団体内統合利用番号 (compared through its blind index, never decrypted)
and 特定個人情報名コード, and ends in one outcome of :class:`jutaku.domain.inquiry.InquiryOutcome`.
Answers 00/01/02 are stored (the 00 items only encrypted, under the person's data key: tax, welfare
and disability data), 09 closes the request as an error; the 00 items are compared with the register
(:func:`jutaku.domain.inquiry.discrepancies`) and a disagreement is kept on the result, in Japanese,
for the notice list (届出勧奨リスト). Rows are applied in file order: a second answer is ``Q02``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Hashable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db.models import Count

from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record_many
from jutaku.crypto.blind_index import INTEGRATED_NUMBER, get_indexer
from jutaku.crypto.envelope import FieldCipher
from jutaku.dbutil import adapter, bulk_insert, select_in, update_in
from jutaku.domain.inquiry import (
    OUTCOME_LABELS,
    Held,
    InquiryOutcome,
    decide,
    discrepancies,
    parse_result_data,
)
from jutaku.domain.wareki import format_date, jst_date
from jutaku.exchange.outbound import write_export
from jutaku.formats.csvio import FileInfo, Row
from jutaku.formats.layouts import INQUIRY_RESULT_LAYOUT, NOTICE_LIST
from jutaku.jobs.runner import ChunkContext
from jutaku.linkage.dispatch import SENT_ONLY
from jutaku.linkage.models import InquiryRequest, InquiryResult
from jutaku.registry.importing import ImportResult, run_import
from jutaku.registry.models import ImportRejection, Person

KIND = "inquiry-import"
CIPHER_TABLE = "linkage_inquiryresult"
CIPHER_COLUMN = "data"
_STORED = {InquiryOutcome.OK: "00", InquiryOutcome.NOT_FOUND: "01", InquiryOutcome.NOT_SET: "02",
           InquiryOutcome.SERVER_ERROR: "09"}

_REQUESTS_SQL = (
    "SELECT r.id, r.request_no, r.person_id, p.person_id, r.info_code, r.state, i.blind_index "  # noqa: S608 - constant SQL fragments only
    "FROM linkage_inquiryrequest r JOIN registry_person p ON p.id = r.person_id "
    f"{SENT_ONLY} "
    "LEFT JOIN linkage_integratednumber i ON i.person_id = r.person_id WHERE r.request_no {in}"
)


def _held(person_pks: set[int]) -> dict[int, Held]:
    """Name, 続柄, head's name and dependants of these persons' households, from the register."""
    if not person_pks:
        return {}
    persons = {pk: (name, rel, hh) for pk, name, rel, hh in
               Person.objects.filter(pk__in=person_pks).values_list("pk", "name", "relationship", "household_no")}
    households = {hh for _, _, hh in persons.values()}
    heads = dict(Person.objects.filter(household_no__in=households, relationship="01")
                 .values_list("household_no", "name"))
    dependants = dict(Person.objects.filter(household_no__in=households, relationship__in=["03", "04"])
                      .values("household_no").annotate(n=Count("id")).values_list("household_no", "n"))
    return {pk: Held(name, rel, heads.get(hh, ""), int(dependants.get(hh, 0))) for pk, (name, rel, hh) in persons.items()}


class _Handler:
    def __init__(self, duplicates: set[Hashable]) -> None:
        del duplicates  # rows are applied in order: a repeated 要求番号 finds its request answered (Q02)
        self.cipher = FieldCipher()
        self.indexer = get_indexer(context=INTEGRATED_NUMBER)
        self.adapt_time = adapter(InquiryResult, "received_at")

    def __call__(self, chunk: list[tuple[int, Row]], ctx: ChunkContext) -> Counter[str]:
        rows = [row for _, row in chunk]
        requests: dict[str, list[Any]] = {
            no: [int(rid), int(ppk), pid, info, state, bytes(bi) if bi is not None else None]
            for rid, no, ppk, pid, info, state, bi in
            select_in(_REQUESTS_SQL, sorted({r.values.get("要求番号", "") for r in rows}))}
        counts: Counter[str] = Counter()
        decided: list[tuple[Row, InquiryOutcome, list[Any] | None, dict[str, str] | None]] = []
        for row in rows:
            v = row.values
            req = requests.get(v.get("要求番号", ""))
            number = v.get("団体内統合利用番号", "")
            data = parse_result_data(v.get("特定個人情報名コード", ""), v.get("結果データ", "")) \
                if v.get("結果コード") == "00" else None
            same_person = (req is not None and req[5] is not None and len(number) == 15 and number.isascii()
                           and number.isdigit() and self.indexer.compute_canonical(number) == req[5])
            outcome = decide(malformed=bool(row.errors), result_code=v.get("結果コード", ""), data_ok=data is not None,
                             request_open=None if req is None else req[4] == "open",
                             same_person=same_person, same_information=req is not None and req[3] == v.get(
                                 "特定個人情報名コード"))
            counts[outcome.value] += 1
            if outcome in _STORED and req is not None:
                req[4] = "error" if outcome is InquiryOutcome.SERVER_ERROR else "answered"
            decided.append((row, outcome, req, data))
        self._apply(decided, ctx)
        return counts

    def _apply(self, decided: list[tuple[Row, InquiryOutcome, list[Any] | None, dict[str, str] | None]],
               ctx: ChunkContext) -> None:
        stored = [(row, outcome, req, data) for row, outcome, req, data in decided
                  if outcome in _STORED and req is not None]
        held = _held({req[1] for _, o, req, _ in stored if o is InquiryOutcome.OK})
        plain = [(req[2], json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8"))
                 for _, o, req, data in stored if o is InquiryOutcome.OK and data is not None]
        tokens = iter(self.cipher.encrypt_many(CIPHER_TABLE, CIPHER_COLUMN, plain))
        now = self.adapt_time(datetime.now(UTC))
        results = []
        for row, outcome, req, data in stored:
            token, found = None, ""
            if outcome is InquiryOutcome.OK and data is not None:
                token = next(tokens)
                found = "／".join(discrepancies(req[3], data, held[req[1]]))[:400]
            results.append((req[0], req[1], req[3], _STORED[outcome], row.values.get("未設定事由", "")[:200], token,
                            found, now, ctx.job_id))
        bulk_insert(InquiryResult, ("request", "person", "info_code", "result_code", "unset_reason", "data",
                                    "discrepancy", "received_at", "job_id"), results)
        for state in ("answered", "error"):
            update_in(InquiryRequest, {"state": state, "answered_at": now, "answered_job": ctx.job_id}, "id",
                      [req[0] for _, _, req, _ in stored if req[4] == state])
        rejected = [(row, outcome, req) for row, outcome, req, _ in decided
                    if outcome not in (InquiryOutcome.OK, InquiryOutcome.NOT_FOUND, InquiryOutcome.NOT_SET)]
        bulk_insert(ImportRejection, ("job_id", "line_no", "receipt_no", "person_id", "code", "reason"), [
            (ctx.job_id, row.line_no, _safe_id(row.values.get("要求番号", "")), req[2] if req is not None else "",
             outcome.value, OUTCOME_LABELS[outcome.value]) for row, outcome, req in rejected])
        stored_ok = {InquiryOutcome.OK, InquiryOutcome.NOT_FOUND, InquiryOutcome.NOT_SET}
        record_many((AuditEntry(AuditEvent.INQUIRY_STORE if outcome in stored_ok else AuditEvent.INQUIRY_REJECT,
                                [req[2] if req is not None else f"line:{row.line_no}"], outcome.value,
                                {"source": "inquiry-result"}) for row, outcome, req, _ in decided),
                    actor=ctx.actor, job_id=ctx.job_id)


def _safe_id(value: str) -> str:
    return value[:20] if value.isascii() and value.isalnum() else ""


def import_inquiry_results(path: Path, *, actor: Actor, dry_run: bool = False, progress: bool = False,
                           encoding: str | None = None, chunk_size: int = 20_000) -> ImportResult:
    """``jutaku inquiry import FILE``; raises ``FileRejected`` for a file refused whole."""
    return run_import(path, INQUIRY_RESULT_LAYOUT, KIND, key=None, handler=_Handler,
                      actor=actor, dry_run=dry_run, progress=progress, encoding=encoding, chunk_size=chunk_size)


def _notice_rows(job_id: int) -> Iterator[dict[str, str]]:
    results = (InquiryResult.objects.filter(job_id=job_id).exclude(discrepancy="")
               .select_related("person", "request__filing").order_by("person__person_id", "info_code"))
    for r in results.iterator(chunk_size=5000):
        yield {"個人ID": r.person.person_id, "氏名": r.person.name, "受付番号": r.request.filing.receipt_no,
               "手続コード": r.request.procedure_code, "特定個人情報名コード": r.info_code, "相違内容": r.discrepancy,
               "取得日": format_date(jst_date(r.received_at))}


def write_notice_list(job_id: int, path: Path, *, actor: Actor) -> tuple[Path, FileInfo] | None:
    """The notice list (届出勧奨リスト) of an import job, or ``None`` when no answer disagreed."""
    if not InquiryResult.objects.filter(job_id=job_id).exclude(discrepancy="").exists():
        return None
    return write_export(path, NOTICE_LIST, _notice_rows(job_id), actor=actor, job_id=job_id)
