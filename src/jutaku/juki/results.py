"""Importing Juki-net answers (住基ネット照会結果の取込, F5): ``jutaku juki import FILE``.

Each row ends in one outcome of :class:`jutaku.domain.juki.JukiOutcome`. A confirmed identity, a
discrepancy (notice list) or a death is stored with the answer's identity data encrypted; a death makes
the person 死亡 with its date (status history kept, audited) — nothing else of the register is changed by
an answer. The returned 個人番号 is compared with the registered one through the blind index and is
never stored. Rows are applied in file order: a second answer to one query is ``J02``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Hashable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record_many
from jutaku.crypto.blind_index import get_indexer
from jutaku.crypto.envelope import FieldCipher
from jutaku.dbutil import adapter, as_date, bulk_insert, select_in, update_in
from jutaku.domain import my_number
from jutaku.domain.juki import LABELS, Answer, JukiOutcome, Registered, decide
from jutaku.domain.status import DECEASED, Held, StatusSource, from_juki_death
from jutaku.domain.wareki import format_date, jst_date, parse_birth_date, parse_date
from jutaku.exchange.outbound import write_export
from jutaku.formats.csvio import FileInfo, Row
from jutaku.formats.layouts import JUKI_RESULT_LAYOUT, NOTICE_LIST
from jutaku.jobs.runner import ChunkContext
from jutaku.juki.models import JukiQuery, JukiResult
from jutaku.linkage.dispatch import SENT_ONLY
from jutaku.registry.importing import ImportResult, run_import
from jutaku.registry.models import ImportRejection, Person, StatusChange

KIND = "juki-import"
CIPHER_TABLE = "juki_jukiresult"
CIPHER_COLUMN = "data"
_STORED = {JukiOutcome.OK, JukiOutcome.DISCREPANCY, JukiOutcome.DECEASED, JukiOutcome.NOT_FOUND,
           JukiOutcome.SERVER_ERROR}
_QUERIES_SQL = (
    "SELECT r.id, r.query_no, r.person_id, p.person_id, r.state, m.blind_index, p.name, p.name_kana, "  # noqa: S608 - constant SQL fragments only
    "p.birth_date, p.sex, p.address, p.status, p.status_source FROM juki_jukiquery r "
    "JOIN registry_person p ON p.id = r.person_id "
    f"{SENT_ONLY} "
    "LEFT JOIN registry_mynumberrecord m ON m.person_id = r.person_id WHERE r.query_no {in}"
)
_ITEMS = ("氏名", "氏名カナ", "生年月日", "性別", "住所", "住民票コード", "異動事由", "異動年月日", "現存区分")



def _answer(v: dict[str, str]) -> Answer | None:
    if v.get("処理結果") != "00" or not v.get("氏名カナ") or not v.get("生年月日") or not v.get("現存区分"):
        return None
    return Answer(v.get("氏名", ""), v["氏名カナ"], parse_birth_date(v["生年月日"]), v.get("性別", ""),
                  v.get("住所", ""), v.get("異動事由", ""), v["現存区分"])


class _Handler:
    def __init__(self, duplicates: set[Hashable]) -> None:
        del duplicates  # rows apply in order: a repeated 照会番号 finds its query answered (J02)
        self.cipher = FieldCipher()
        self.indexer = get_indexer()
        self.adapt_time = adapter(JukiResult, "received_at")
        self.adapt_date = adapter(JukiResult, "change_date")

    def __call__(self, chunk: list[tuple[int, Row]], ctx: ChunkContext) -> Counter[str]:
        rows = [row for _, row in chunk]
        queries: dict[str, list[Any]] = {
            r[1]: list(r) for r in select_in(_QUERIES_SQL, sorted({row.values.get("照会番号", "") for row in rows}))}
        counts: Counter[str] = Counter()
        decided: list[tuple[Row, JukiOutcome, list[str], list[Any] | None]] = []
        for row in rows:
            v = row.values
            q = queries.get(v.get("照会番号", ""))
            answer = None if row.errors else _answer(v)
            number = my_number.normalise(v.get("個人番号", ""))
            same = (q is not None and q[5] is not None and my_number.is_valid(number)
                    and self.indexer.compute_canonical(number) == bytes(q[5]))
            held = None if q is None else Registered(q[6], q[7], as_date(q[8]), q[9], q[10])
            outcome, found = decide(malformed=bool(row.errors), result_code=v.get("処理結果", ""),
                                    query_open=None if q is None else q[4] in JukiQuery.OPEN_STATES,
                                    same_number=same, answer=answer, held=held)
            counts[outcome.value] += 1
            if outcome in _STORED and q is not None:
                q[4] = "error" if outcome is JukiOutcome.SERVER_ERROR else "answered"
            decided.append((row, outcome, found, q))
        self._apply(decided, ctx)
        return counts

    def _apply(self, decided: list[tuple[Row, JukiOutcome, list[str], list[Any] | None]], ctx: ChunkContext) -> None:
        stored = [(row, o, found, q) for row, o, found, q in decided if o in _STORED and q is not None]
        plain = [(q[3], json.dumps({k: row.values.get(k, "") for k in _ITEMS}, ensure_ascii=False,
                                   sort_keys=True).encode("utf-8"))
                 for row, o, _, q in stored if row.values.get("処理結果") == "00"]
        tokens = iter(self.cipher.encrypt_many(CIPHER_TABLE, CIPHER_COLUMN, plain))
        now = self.adapt_time(datetime.now(UTC))
        results = []
        for row, outcome, found, q in stored:
            v = row.values
            token = next(tokens) if v.get("処理結果") == "00" else None
            changed = parse_date(v["異動年月日"]) if v.get("異動年月日") else None
            results.append((q[0], q[2], v.get("処理結果", ""), outcome.value, v.get("異動事由", "")[:20],
                            self.adapt_date(changed), v.get("現存区分", "")[:1], token, "／".join(found)[:400],
                            now, ctx.job_id))
        bulk_insert(JukiResult, ("query", "person", "result_code", "outcome", "change_reason", "change_date",
                                 "existing", "data", "discrepancy", "received_at", "job_id"), results)
        for state in ("answered", "error"):
            update_in(JukiQuery, {"state": state, "answered_at": now, "answered_job": ctx.job_id}, "id",
                      [q[0] for _, _, _, q in stored if q[4] == state])
        deaths = [(q, row) for row, o, _, q in stored
                  if o is JukiOutcome.DECEASED and (q[11], q[12]) != (DECEASED, StatusSource.JUKI)]
        self._deceased(deaths, ctx)
        refused = [(row, o, q) for row, o, _, q in decided if o not in (JukiOutcome.OK, JukiOutcome.DECEASED)]
        bulk_insert(ImportRejection, ("job_id", "line_no", "receipt_no", "person_id", "code", "reason"), [
            (ctx.job_id, row.line_no, _safe_id(row.values.get("照会番号", "")), q[3] if q is not None else "",
             o.value, LABELS[o.value]) for row, o, q in refused])
        ok = {JukiOutcome.OK, JukiOutcome.DISCREPANCY, JukiOutcome.DECEASED, JukiOutcome.NOT_FOUND}
        record_many((AuditEntry(AuditEvent.JUKI_STORE if o in ok else AuditEvent.JUKI_REJECT,
                                [q[3] if q is not None else f"line:{row.line_no}"], o.value, {"source": "juki-result"})
                     for row, o, _, q in decided), actor=ctx.actor, job_id=ctx.job_id)

    def _deceased(self, deaths: list[tuple[list[Any], Row]], ctx: ChunkContext) -> None:
        """Status 死亡 with the date Juki-net gives, recorded as Juki-net's (a later extract does not undo
        it, :mod:`jutaku.domain.status`); the old status is kept in the history (audited). A death the
        extract had already reported becomes Juki-net's too, with Juki-net's date."""
        if not deaths:
            return
        now = datetime.now(UTC)
        for q, row in deaths:
            when = parse_date(row.values["異動年月日"]) if row.values.get("異動年月日") else None
            verdict = from_juki_death(Held(q[11], StatusSource(q[12])))
            Person.objects.filter(pk=q[2]).update(status=verdict.status, status_date=when, status_source=verdict.source,
                                                  updated_at=now, updated_job=ctx.job_id)
            if q[11] != verdict.status:
                StatusChange.objects.create(person_id=q[2], old_status=q[11], new_status=verdict.status,
                                            status_date=when, recorded_at=now, job_id=ctx.job_id,
                                            source=verdict.source)
        record_many((AuditEntry(AuditEvent.PERSON_DECEASED, [q[3]], "juki", {"source": "juki-result"})
                     for q, _ in deaths), actor=ctx.actor, job_id=ctx.job_id)


def _safe_id(value: str) -> str:
    return value[:20] if value.isascii() and value.isalnum() else ""


def import_juki_results(path: Path, *, actor: Actor, dry_run: bool = False, progress: bool = False,
                        encoding: str | None = None, chunk_size: int = 20_000) -> ImportResult:
    """``jutaku juki import FILE``; raises ``FileRejected`` for a file refused whole."""
    return run_import(path, JUKI_RESULT_LAYOUT, KIND, key=None, handler=_Handler,
                      actor=actor, dry_run=dry_run, progress=progress, encoding=encoding, chunk_size=chunk_size)


def _notice_rows(job_id: int) -> Iterator[dict[str, str]]:
    results = (JukiResult.objects.filter(job_id=job_id).exclude(discrepancy="").select_related("person")
               .order_by("person__person_id"))
    for r in results.iterator(chunk_size=5000):
        yield {"個人ID": r.person.person_id, "氏名": r.person.name, "受付番号": "", "手続コード": "JUKI",
               "特定個人情報名コード": "本人確認情報", "相違内容": r.discrepancy, "取得日": format_date(jst_date(r.received_at))}


def write_notice_list(job_id: int, path: Path, *, actor: Actor) -> tuple[Path, FileInfo] | None:
    """The notice list (届出勧奨リスト) of a Juki-net import, or ``None`` when every identity agreed."""
    if not JukiResult.objects.filter(job_id=job_id).exclude(discrepancy="").exists():
        return None
    return write_export(path, NOTICE_LIST, _notice_rows(job_id), actor=actor, job_id=job_id)
