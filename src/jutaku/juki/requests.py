"""Juki-net queries (住基ネット照会用ファイル作成, F3): ``jutaku juki request --year Y --out F``.

Who is queried (issue 6; seed 同一住所の者): every *current* person with a registered My Number who is
covered by a filing of fiscal year ``Y``, and every current, numbered member of those persons' households
(same 世帯番号 = same address), once — not while an earlier query of theirs is open. The two steps of
ADR 0009 (create as a job in person order, then write every ``created`` query and mark them ``sent`` in
one statement) make a crash lose nothing and duplicate nothing. The file holds My Numbers: the command
writes it encrypted unless told otherwise.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db import connection, transaction

from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record_many
from jutaku.crypto.envelope import FieldCipher
from jutaku.dbutil import adapter, as_date, bulk_insert, keyset_pages, select_in
from jutaku.domain.wareki import format_date
from jutaku.exchange.outbound import write_export
from jutaku.formats.layouts import JUKI_REQUEST
from jutaku.jobs.runner import ChunkContext, run_job
from jutaku.juki.models import JukiQuery
from jutaku.linkage import ids
from jutaku.registry.pipeline import CIPHER_COLUMN, CIPHER_TABLE

KIND = "juki-request"
PAGE = 5000
RECIPIENT = "住基ネット（東京都サーバ）"

_CANDIDATES_SQL = (
    "SELECT p.id, p.person_id FROM registry_person p JOIN registry_mynumberrecord m ON m.person_id = p.id "
    "WHERE p.status = '1' AND p.id > %s AND p.household_no IN ("
    "SELECT q.household_no FROM registry_filing f JOIN registry_person q ON q.id = f.person_id "
    "WHERE f.fiscal_year = %s) ORDER BY p.id LIMIT %s"
)
_OPEN_SQL = "SELECT person_id FROM juki_jukiquery WHERE state IN ('created', 'sent') AND person_id {in}"
_TO_WRITE_SQL = (
    "SELECT j.id, j.query_no, p.person_id, p.name, p.name_kana, p.birth_date, p.sex, p.address, m.ciphertext "
    "FROM juki_jukiquery j JOIN registry_person p ON p.id = j.person_id "
    "JOIN registry_mynumberrecord m ON m.person_id = j.person_id "
    "WHERE j.state = 'created' AND j.id > %s ORDER BY j.id LIMIT %s"
)
_MARK_SENT_SQL = (
    "UPDATE juki_jukiquery SET state = 'sent', sent_at = %s, sent_file_sha256 = %s WHERE state = 'created' "
    "AND id <= %s AND person_id IN (SELECT person_id FROM registry_mynumberrecord)"
)


@dataclass(frozen=True)
class JukiRequestResult:
    job_id: int
    created: int
    path: Path | None
    sha256: str
    written: int


def _candidates(year: int) -> Iterator[tuple[int, str]]:
    for page in keyset_pages(_CANDIDATES_SQL, lambda last: [last, year, PAGE]):
        yield from ((int(pk), pid) for pk, pid in page)


class _CreateHandler:
    def __init__(self, year: int) -> None:
        self.year = year
        self.adapt_time = adapter(JukiQuery, "created_at")

    def __call__(self, chunk: list[tuple[int, tuple[int, str]]], ctx: ChunkContext) -> Counter[str]:
        persons = [item for _, item in chunk]
        busy = {int(r[0]) for r in select_in(_OPEN_SQL, [pk for pk, _ in persons])}
        todo = [pk for pk, _ in persons if pk not in busy]
        counts: Counter[str] = Counter({"open": len(busy)})
        if todo:
            now = self.adapt_time(datetime.now(UTC))
            numbers = ids.allocate("juki", len(todo))
            bulk_insert(JukiQuery, ("query_no", "person", "fiscal_year", "state", "created_at", "created_job",
                                    "sent_file_sha256"), [
                (no, pk, self.year, "created", now, ctx.job_id, "") for no, pk in zip(numbers, todo, strict=True)])
            counts["created"] = len(todo)
        return +counts


def create_queries(year: int, *, actor: Actor, progress: bool = False, chunk_size: int = 20_000) -> tuple[int, dict[str, int]]:
    token = hashlib.sha256(f"{KIND}|{year}|{secrets.token_hex(16)}".encode()).hexdigest()
    result = run_job(KIND, items=_candidates(year), input_sha256=token, input_name=f"juki-{year}", actor=actor,
                     handler=_CreateHandler(year), chunk_size=chunk_size, progress=progress, options={"year": year})
    return result.job_id, result.counts



def _rows(sent: list[tuple[int, str]]) -> Iterator[dict[str, str]]:
    cipher = FieldCipher()
    for page in keyset_pages(_TO_WRITE_SQL, lambda last: [last, PAGE]):
        numbers = cipher.decrypt_many(CIPHER_TABLE, CIPHER_COLUMN, [(r[2], bytes(r[8])) for r in page])
        for (qid, no, pid, name, kana, birth, sex, address, _), number in zip(page, numbers, strict=True):
            sent.append((int(qid), pid))
            yield {"照会番号": no, "検索区分": "1", "個人番号": number.decode("ascii"), "氏名": name, "氏名カナ": kana,
                   "生年月日": format_date(as_date(birth)), "性別": sex, "住所": address}


def write_queries(out: Path, *, actor: Actor, job_id: int | None, encrypt: bool = True) -> tuple[Path | None, str, int]:
    if not JukiQuery.objects.filter(state="created").exists():
        return None, "", 0
    sent: list[tuple[int, str]] = []
    path, info = write_export(out, JUKI_REQUEST, _rows(sent), actor=actor, job_id=job_id, encrypt=encrypt,
                              recipient=RECIPIENT)
    now = adapter(JukiQuery, "sent_at")(datetime.now(UTC))
    detail: dict[str, str | int | bool | None] = {"file_sha256": info.sha256}
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(_MARK_SENT_SQL, [now, info.sha256, max(qid for qid, _ in sent)])
        if cur.rowcount != len(sent):
            raise RuntimeError(f"{cur.rowcount} queries marked sent for {len(sent)} written: not applied")
        record_many((AuditEntry(AuditEvent.JUKI_REQUEST, [pid], "sent", detail) for _, pid in sent),
                    actor=actor, job_id=job_id)
    return path, info.sha256, len(sent)


def request_juki(year: int, out: Path, *, actor: Actor, encrypt: bool = True, progress: bool = False) -> JukiRequestResult:
    """``jutaku juki request``: both steps."""
    job_id, counts = create_queries(year, actor=actor, progress=progress)
    path, sha, written = write_queries(out, actor=actor, job_id=job_id, encrypt=encrypt)
    return JukiRequestResult(job_id, counts.get("created", 0), path, sha, written)
