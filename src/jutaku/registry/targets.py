"""Import of the housing system's target extract (都住システム 対象者抽出, interface ``targets``).

Upsert by 個人ID. Every status change (退去, 辞退・不合格, 死亡) is kept in :class:`StatusChange` with
its date and source. 住宅コード is required for residents (区分 1) only: an applicant has no dwelling yet.
Row outcomes (counted in the job ledger, rejected rows on the rejection list):

- ``OK`` new person registered, ``U01`` person updated, ``I01`` no change,
- ``I02`` the person was deleted (a shell, ADR 0013) and the row does not say they became current after
  the deletion: nothing is taken in (:func:`jutaku.domain.retention.refills`); a row that does fills the
  register entry again (``U01``) and the person is no longer a shell,
- ``S01`` the person's death was recorded from Juki-net and the row says otherwise: the status stays
  死亡 (status precedence, :mod:`jutaku.domain.status`), the rest of the row is applied, and the person
  goes on the import's notice list (届出勧奨リスト, :func:`write_notice_list`) until a supervisor corrects
  the status (``jutaku persons correct-status``) or the housing system's extract catches up,
- ``E00`` malformed row (field errors, 住宅コード missing for a resident), ``E06`` the same 個人ID appears
  more than once in the file (every such row is rejected: the file does not say which one is right).

The file is checked whole first (encoding, header, manifest, encryption): a bad file changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record_many
from jutaku.dbutil import adapter, bulk_insert, bulk_update
from jutaku.domain import status as precedence
from jutaku.domain.japanese import kana_key, name_search_key
from jutaku.domain.jst import format_day
from jutaku.domain.retention import refills
from jutaku.domain.wareki import format_date, jst_date, parse_birth_date, parse_date
from jutaku.exchange.outbound import write_export
from jutaku.formats.csvio import FileInfo, Row
from jutaku.formats.layouts import NOTICE_LIST, STATUS, TARGETS
from jutaku.jobs.runner import ChunkContext
from jutaku.registry.importing import ImportResult, run_import
from jutaku.registry.models import ImportRejection, Person, StatusChange, StatusNotice

KIND = "import-targets"
OUTCOMES = {
    "OK": "新規登録",
    "U01": "更新",
    "I01": "変更なし",
    "I02": "削除済みの対象者です（取り込みません）",
    precedence.DISAGREES: precedence.DISAGREES_LABEL,
    "E00": "項目の形式が不正です",
    "E06": "ファイル内で個人IDが重複しています",
}
#: Person fields compared on upsert, in the order of the layout (then who set the status); the matching
#: keys follow the names they are computed from.
FIELDS = (
    "kind", "household_no", "relationship", "housing_category", "housing_code", "application_no", "name",
    "kanji_key", "name_kana", "kana_key", "birth_date", "sex", "postal_code", "address", "status",
    "status_date", "status_source",
)
_STATUS, _DATE, _SOURCE = FIELDS.index("status"), FIELDS.index("status_date"), FIELDS.index("status_source")


def _person_fields(values: dict[str, str]) -> dict[str, object]:
    status_date = values["状態日付"]
    return {
        "kind": values["区分"],
        "household_no": values["世帯番号"],
        "relationship": values["続柄"],
        "housing_category": values["住宅区分"],
        "housing_code": values["住宅コード"],
        "application_no": values["申込番号"],
        "name": values["氏名"],
        "kanji_key": name_search_key(values["氏名"]),
        "name_kana": values["氏名カナ"],
        "kana_key": kana_key(values["氏名カナ"]),
        "birth_date": parse_birth_date(values["生年月日"]),
        "sex": values["性別"],
        "postal_code": values["郵便番号"],
        "address": values["住所"],
        "status": values["状態"],
        "status_date": parse_date(status_date) if status_date else None,
        "status_source": precedence.StatusSource.EXTRACT.value,
    }


def _apply_precedence(fields: dict[str, object], old: tuple[Any, ...] | None) -> bool:
    """Settle the row's status against the held one (:func:`jutaku.domain.status.from_extract`); True when
    the row disagrees with a death recorded from Juki-net (the held status, date and source are kept)."""
    held = None if old is None else precedence.Held(old[_STATUS], precedence.StatusSource(old[_SOURCE]))
    verdict = precedence.from_extract(held, str(fields["status"]))
    if old is not None and verdict.keeps_held:
        fields["status"], fields["status_date"] = old[_STATUS], old[_DATE]
    fields["status_source"] = verdict.source.value
    return verdict.disagrees


class _Handler:
    def __init__(self, duplicates: set[Hashable]) -> None:
        self.duplicates = duplicates
        self.adapt = {f: adapter(Person, f) for f in (*FIELDS, "updated_at")}

    def __call__(self, chunk: list[tuple[int, Row]], ctx: ChunkContext) -> Counter[str]:
        counts: Counter[str] = Counter()
        now = self.adapt["updated_at"](datetime.now(UTC))
        rejections: list[tuple[object, ...]] = []
        audit: list[AuditEntry] = []
        good: dict[str, dict[str, object]] = {}
        for _, row in chunk:
            pid = row.values.get("個人ID", "")
            code = "E00" if row.errors else ("E06" if pid in self.duplicates else None)
            if code is None:
                good[pid] = _person_fields(row.values)
                continue
            counts[code] += 1
            columns = "、".join(e.label for e in row.errors)
            reason = OUTCOMES[code] + (f"（{columns}）" if columns else "")
            rejections.append((ctx.job_id, row.line_no, "", pid[:10], code, reason[:400]))
            audit.append(AuditEntry(AuditEvent.PERSON_REJECT, [f"line:{row.line_no}"], code))
        self._upsert(good, counts, audit, now, ctx.job_id)
        bulk_insert(ImportRejection, ("job_id", "line_no", "receipt_no", "person_id", "code", "reason"), rejections)
        record_many(audit, actor=ctx.actor, job_id=ctx.job_id)
        return counts

    def _upsert(self, good: dict[str, dict[str, object]], counts: Counter[str], audit: list[AuditEntry],
                now: object, job_id: int) -> None:
        found = list(Person.objects.filter(person_id__in=list(good)).values_list("person_id", "deleted_at", *FIELDS))
        existing = {r[0]: r[2:] for r in found}
        shells = {r[0]: jst_date(r[1]) for r in found if r[1] is not None}
        new, changed, changes, notices = [], [], [], []
        for pid, fields in good.items():
            old = existing.get(pid)
            incoming = str(fields["status"])
            if pid in shells and not refills(incoming, cast(date | None, fields["status_date"]), shells[pid]):
                counts["I02"] += 1
                audit.append(AuditEntry(AuditEvent.PERSON_IMPORT, [pid], "I02"))
                continue
            disagrees = _apply_precedence(fields, old)
            values = tuple(fields[f] for f in FIELDS)
            if old is None:
                outcome = "OK"
                new.append((pid, *self._adapted(values), now, job_id))
                changes.append((pid, "", fields["status"], fields["status_date"]))
            elif old != values:
                outcome = "U01"
                changed.append((*self._adapted(values), now, job_id, pid))
                if old[_STATUS] != fields["status"]:
                    changes.append((pid, old[_STATUS], fields["status"], fields["status_date"]))
            else:
                outcome = "I01"
            if disagrees:
                outcome = precedence.DISAGREES
                notices.append((pid, incoming, fields["status_date"]))
            counts[outcome] += 1
            audit.append(AuditEntry(AuditEvent.PERSON_IMPORT, [pid], outcome))
        bulk_insert(Person, ("person_id", *FIELDS, "updated_at", "updated_job"), new)
        # A refilled shell is a live entry again (deleted_at NULL), in the same statement as its fields.
        bulk_update(Person, "person_id", (*FIELDS, "updated_at", "updated_job", "deleted_at"),
                    [(*row[:-1], None, row[-1]) for row in changed])
        self._status_changes(changes, now, job_id)
        self._notices(notices, now, job_id)

    def _adapted(self, values: tuple[object, ...]) -> tuple[object, ...]:
        return tuple(self.adapt[f](v) if v is not None else None for f, v in zip(FIELDS, values, strict=True))

    def _status_changes(self, changes: list[tuple[str, str, object, object]], now: object, job_id: int) -> None:
        if not changes:
            return
        ids = dict(Person.objects.filter(person_id__in=[c[0] for c in changes]).values_list("person_id", "pk"))
        adapt_date = adapter(StatusChange, "status_date")
        bulk_insert(
            StatusChange, ("person", "old_status", "new_status", "status_date", "recorded_at", "job_id", "source"),
            [(ids[pid], old, new, adapt_date(d) if d else None, now, job_id, precedence.StatusSource.EXTRACT.value)
             for pid, old, new, d in changes],
        )

    def _notices(self, notices: list[tuple[str, str, object]], now: object, job_id: int) -> None:
        if not notices:
            return
        ids = dict(Person.objects.filter(person_id__in=[n[0] for n in notices]).values_list("person_id", "pk"))
        bulk_insert(StatusNotice, ("job_id", "person", "code", "extract_status", "description", "recorded_at"), [
            (job_id, ids[pid], precedence.DISAGREES, incoming, _notice_text(incoming, died), now)
            for pid, incoming, died in notices])


def _notice_text(incoming: str, died: object) -> str:
    """A fixed sentence (never a quote of the row): what Juki-net recorded and what the extract says."""
    when = f"（{format_day(died)}）" if isinstance(died, date) else ""
    return (f"{precedence.DISAGREES} 住基ネットで死亡{when}が記録されていますが、対象者抽出の状態は「{STATUS[incoming]}」です"
            "（状態は死亡のまま。誤りであれば責任者が状態を訂正してください）")


def import_targets(path: Path, *, actor: Actor, dry_run: bool = False, progress: bool = True,
                   encoding: str | None = None, chunk_size: int = 5000) -> ImportResult:
    """Load a targets file. Raises ``FileRejected`` (nothing applied) when the file is bad as a whole."""
    return run_import(path, TARGETS, KIND, key=lambda v: v.get("個人ID", ""), handler=_Handler, actor=actor,
                      dry_run=dry_run, progress=progress, encoding=encoding, chunk_size=chunk_size)


def _notice_rows(job_id: int) -> Iterator[dict[str, str]]:
    notices = StatusNotice.objects.filter(job_id=job_id).select_related("person").order_by("person__person_id")
    for n in notices.iterator(chunk_size=5000):
        yield {"個人ID": n.person.person_id, "氏名": n.person.name, "受付番号": "", "手続コード": "TARGETS",
               "特定個人情報名コード": "状態", "相違内容": n.description, "取得日": format_date(jst_date(n.recorded_at))}


def write_notice_list(job_id: int, path: Path, *, actor: Actor) -> tuple[Path, FileInfo] | None:
    """The notice list (届出勧奨リスト) of a targets import: its ``S01`` rows, or ``None`` when there were none."""
    if not StatusNotice.objects.filter(job_id=job_id).exists():
        return None
    return write_export(path, NOTICE_LIST, _notice_rows(job_id), actor=actor, job_id=job_id)
