"""Import of the housing system's filed procedures (都住システム 手続抽出, interface ``procedures``).

One row per (filing, covered person). Upsert by (受付番号, 対象者個人ID). A 不開示希望 of ``1`` in a new
filing, or one whose wish changed from 0 to 1, sets the person's non-disclosure flag, which no later
import clears (interfaces.md; :mod:`jutaku.domain.wishes`, :mod:`jutaku.registry.non_disclosure`); the
same filing listed again unchanged is not a new wish and does not undo a supervisor's clear. Row outcomes:

- ``OK`` new filing, ``U01`` filing updated (consent or wish changed), ``I01`` no change,
- ``E00`` malformed row, ``E02`` 申請者 or 対象者 is not a known person,
- ``E06`` the same (受付番号, 対象者) appears more than once in the file (every such row rejected),
- ``E08`` 手続コード is not a procedure of the legal allow-list (deny by default),
- ``E09`` the 対象者 was deleted (a shell, ADR 0013): a filing is not taken in for a person whose data the
  bulk deletion erased, until a target extract fills the register entry again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from datetime import UTC, datetime
from pathlib import Path

from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record_many
from jutaku.dbutil import adapter, bulk_insert, bulk_update
from jutaku.domain.wareki import parse_date
from jutaku.domain.wishes import filing_wish_is_new
from jutaku.formats.csvio import Row
from jutaku.formats.layouts import PROCEDURES
from jutaku.jobs.runner import ChunkContext
from jutaku.registry.importing import ImportResult, run_import
from jutaku.registry.models import Filing, ImportRejection, Person
from jutaku.registry.non_disclosure import record_wishes

KIND = "import-procedures"
OUTCOMES = {
    "OK": "新規登録",
    "U01": "更新",
    "I01": "変更なし",
    "E00": "項目の形式が不正です",
    "E02": "申請者または対象者の個人IDが対象者に存在しません",
    "E06": "ファイル内で受付番号と対象者の組が重複しています",
    "E08": "手続コードが情報連携の許可リストにありません",
    "E09": "対象者の個人情報は削除済みです（手続を取り込みません）",
}
_FIELDS = ("procedure_code", "fiscal_year", "received_date", "applicant", "consent", "non_disclosure_wish")


def permitted_procedure_codes() -> frozenset[str]:
    """手続コード of the active legal allow-list (:mod:`jutaku.allowlist`); none without one."""
    from jutaku.allowlist.service import permitted_procedure_codes as active_codes

    return active_codes()


def _key(values: dict[str, str]) -> tuple[str, str]:
    return values.get("受付番号", ""), values.get("対象者個人ID", "")


class _Handler:
    def __init__(self, duplicates: set[Hashable]) -> None:
        self.duplicates = duplicates
        self.codes = permitted_procedure_codes()
        self.adapt_date = adapter(Filing, "received_date")
        self.adapt_time = adapter(Filing, "updated_at")

    def _early(self, row: Row, persons: dict[str, int], shells: set[str]) -> str | None:
        v = row.values
        if row.errors:
            return "E00"
        if v["申請者個人ID"] not in persons or v["対象者個人ID"] not in persons:
            return "E02"
        if _key(v) in self.duplicates:
            return "E06"
        if v["手続コード"] not in self.codes:
            return "E08"
        if v["対象者個人ID"] in shells:
            return "E09"
        return None

    def __call__(self, chunk: list[tuple[int, Row]], ctx: ChunkContext) -> Counter[str]:
        ids = {r.values.get(k, "") for _, r in chunk for k in ("申請者個人ID", "対象者個人ID")}
        found = list(Person.objects.filter(person_id__in=ids).values_list("person_id", "pk", "deleted_at"))
        persons = {pid: pk for pid, pk, _ in found}
        shells = {pid for pid, _, deleted in found if deleted is not None}
        existing = {(receipt, pid): (pk, values) for pk, receipt, pid, *values in Filing.objects.filter(
            receipt_no__in={r.values.get("受付番号", "") for _, r in chunk}).values_list(
            "pk", "receipt_no", "person__person_id", *_FIELDS)}
        moment = datetime.now(UTC)
        now = self.adapt_time(moment)
        counts: Counter[str] = Counter()
        new, changed, rejected, audit = [], [], [], []
        wishes: dict[int, str] = {}
        for _, row in chunk:
            v = row.values
            code = self._early(row, persons, shells)
            if code is None:
                fields = (v["手続コード"], int(v["年度"]), parse_date(v["受付日"]), persons[v["申請者個人ID"]],
                          v["照会同意"] == "1", v["不開示希望"] == "1")
                old = existing.get(_key(v))
                adapted = (*fields[:2], self.adapt_date(fields[2]), *fields[3:])
                if old is None:
                    code = "OK"
                    new.append((v["受付番号"], persons[v["対象者個人ID"]], *adapted, ctx.job_id, now))
                elif tuple(old[1]) != fields:
                    code = "U01"
                    changed.append((*adapted, ctx.job_id, now, old[0]))
                else:
                    code = "I01"
                if filing_wish_is_new(None if old is None else old[1][5], fields[5]):
                    wishes[persons[v["対象者個人ID"]]] = v["対象者個人ID"]
                # No 受付番号 in the audit detail: a 12-digit receipt may pass the My Number check by chance.
                audit.append(AuditEntry(AuditEvent.PERSON_IMPORT, [v["対象者個人ID"]], code,
                                        {"procedure": v["手続コード"]}))
            else:
                rejected.append((ctx.job_id, row.line_no, v.get("受付番号", "")[:20],
                                 _safe_id(v.get("対象者個人ID", "")), code, OUTCOMES[code]))
                audit.append(AuditEntry(AuditEvent.PERSON_REJECT, [f"line:{row.line_no}"], code))
            counts[code] += 1
        bulk_insert(Filing, ("receipt_no", "person", *_FIELDS, "job_id", "updated_at"), new)
        bulk_update(Filing, "id", (*_FIELDS, "job_id", "updated_at"), changed)
        bulk_insert(ImportRejection, ("job_id", "line_no", "receipt_no", "person_id", "code", "reason"), rejected)
        audit.extend(record_wishes(wishes, source="procedures", now=moment))
        record_many(audit, actor=ctx.actor, job_id=ctx.job_id)
        return counts


def _safe_id(value: str) -> str:
    return value if len(value) == 10 and value.isascii() and value.isdigit() else ""


def import_procedures(path: Path, *, actor: Actor, dry_run: bool = False, progress: bool = True,
                      encoding: str | None = None, chunk_size: int = 5000) -> ImportResult:
    """Load a procedures file. Raises ``FileRejected`` (nothing applied) when the file is bad as a whole."""
    return run_import(path, PROCEDURES, KIND, key=_key, handler=_Handler, actor=actor, dry_run=dry_run,
                      progress=progress, encoding=encoding, chunk_size=chunk_size)
