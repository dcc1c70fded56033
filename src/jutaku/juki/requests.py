"""Juki-net queries (住基ネット照会用ファイル作成, F3): ``jutaku juki request --year Y --out F``.

Who is queried (issue 6; seed 同一住所の者): every *current* person with a registered My Number who is
covered by a filing of fiscal year ``Y``, and every current, numbered member of those persons' households
(same 世帯番号 = same address), once — not while an earlier query of theirs is open. A person whose use is
suspended (:func:`jutaku.subjects.suspension.suspended_persons`) is left out with ``X07`` on the job's
exclusion list, and a query made before the suspension is withheld at write
(:func:`jutaku.linkage.dispatch.withhold`). The two steps of
:mod:`jutaku.linkage.dispatch` (create as a job in person order into a new dispatch, then write every open
query of the unsent dispatches and mark the dispatches sent) make a crash lose nothing and duplicate
nothing. The file holds My Numbers: it is written encrypted unless plain text is explicitly asked for
(:mod:`jutaku.exchange.outbound`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db import transaction

from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record_many
from jutaku.crypto.envelope import FieldCipher
from jutaku.dbutil import adapter, analyze, as_date, bulk_insert, keyset_pages, update_in
from jutaku.domain.inquiry import Exclusion
from jutaku.domain.wareki import format_date
from jutaku.exchange.outbound import write_export
from jutaku.formats.layouts import JUKI_REQUEST
from jutaku.jobs.runner import ChunkContext, run_job
from jutaku.juki.models import JukiQuery
from jutaku.linkage import dispatch, ids
from jutaku.registry.pipeline import CIPHER_COLUMN, CIPHER_TABLE
from jutaku.subjects.suspension import suspended_persons

KIND = "juki-request"
PAGE = 5000
RECIPIENT = "住基ネット（東京都サーバ）"

_CANDIDATES_SQL = (
    "SELECT p.id, p.person_id FROM registry_person p JOIN registry_mynumberrecord m ON m.person_id = p.id "
    "WHERE p.status = '1' AND p.id > %s AND p.household_no IN ("
    "SELECT q.household_no FROM registry_filing f JOIN registry_person q ON q.id = f.person_id "
    "WHERE f.fiscal_year = %s) "
    "AND NOT EXISTS (SELECT 1 FROM juki_jukiquery j WHERE j.person_id = p.id AND j.state = 'open') "
    "ORDER BY p.id LIMIT %s"
)
_TO_WRITE_SQL = (
    "SELECT j.id, j.query_no, p.person_id, p.name, p.name_kana, p.birth_date, p.sex, p.address, m.ciphertext "
    "FROM juki_jukiquery j JOIN registry_person p ON p.id = j.person_id "
    "LEFT JOIN registry_mynumberrecord m ON m.person_id = j.person_id "
    "WHERE j.dispatch_id = %s AND j.state = 'open' AND j.id > %s ORDER BY j.id LIMIT %s"
)
_SENT_SQL = (
    "SELECT j.id, p.person_id FROM juki_jukiquery j JOIN registry_person p ON p.id = j.person_id "
    "WHERE j.dispatch_id = %s AND j.state = 'open' AND j.id > %s ORDER BY j.id LIMIT %s"
)


@dataclass(frozen=True)
class JukiRequestResult:
    job_id: int
    created: int
    path: Path | None
    sha256: str
    written: int
    excluded: int = 0  # persons left out (use suspended, X07): the job's exclusion list


def _candidates(year: int) -> Iterator[tuple[int, str]]:
    for page in keyset_pages(_CANDIDATES_SQL, lambda last: [last, year, PAGE]):
        yield from ((int(pk), pid) for pk, pid in page)


class _CreateHandler:
    def __init__(self, year: int, dispatch_id: int) -> None:
        self.year, self.dispatch_id = year, dispatch_id
        self.adapt_time = adapter(JukiQuery, "created_at")
        self.suspended = suspended_persons()

    def __call__(self, chunk: list[tuple[int, tuple[int, str]]], ctx: ChunkContext) -> Counter[str]:
        todo = [pk for _, (pk, _) in chunk if pk not in self.suspended]
        now = self.adapt_time(datetime.now(UTC))
        numbers = ids.allocate("juki", len(todo))
        bulk_insert(JukiQuery, ("query_no", "person", "fiscal_year", "state", "dispatch", "created_at",
                                "created_job"), [
            (no, pk, self.year, "open", self.dispatch_id, now, ctx.job_id) for no, pk in zip(numbers, todo, strict=True)])
        return Counter({"created": len(todo)}) + dispatch.exclude_suspended(chunk, self.suspended, ctx.job_id)


def create_queries(year: int, *, actor: Actor, progress: bool = False, chunk_size: int = 20_000) -> tuple[int, dict[str, int]]:
    analyze(JukiQuery)  # plan the anti-join on the table as it is now
    dispatch_id = dispatch.open_dispatch("juki", year=None)
    token = hashlib.sha256(f"{KIND}|{year}|{secrets.token_hex(16)}".encode()).hexdigest()
    result = run_job(KIND, items=_candidates(year), input_sha256=token, input_name=f"juki-{year}", actor=actor,
                     handler=_CreateHandler(year, dispatch_id), chunk_size=chunk_size, progress=progress,
                     options={"year": year})
    dispatch.set_job(dispatch_id, result.job_id)
    return result.job_id, result.counts


def _rows(dispatches: list[int], written: dispatch.Written) -> Iterator[dict[str, str]]:
    cipher = FieldCipher()
    written.rows = dict.fromkeys(dispatches, 0)
    for d, page in dispatch.pages(_TO_WRITE_SQL, dispatches):
        have = [r for r in page if r[8] is not None]
        written.missing.extend(int(r[0]) for r in page if r[8] is None)
        numbers = cipher.decrypt_many(CIPHER_TABLE, CIPHER_COLUMN, [(r[2], bytes(r[8])) for r in have])
        written.rows[d] += len(have)
        for (_, no, _, name, kana, birth, sex, address, _), number in zip(have, numbers, strict=True):
            yield {"照会番号": no, "検索区分": "1", "個人番号": number.decode("ascii"), "氏名": name, "氏名カナ": kana,
                   "生年月日": format_date(as_date(birth)), "性別": sex, "住所": address}


def _sent_audit(dispatches: list[int], detail: dict[str, str | int | bool | None]) -> Iterator[AuditEntry]:
    for _, page in dispatch.pages(_SENT_SQL, dispatches):
        for _, pid in page:
            yield AuditEntry(AuditEvent.JUKI_REQUEST, [pid], "sent", detail)


def write_queries(out: Path, *, actor: Actor, job_id: int | None, plain: bool = False) -> tuple[Path | None, str, int]:
    dispatch.discard_empty("juki")
    suspended = dict.fromkeys(suspended_persons(), Exclusion.SUSPENDED.value)
    dispatches = dispatch.pending("juki")
    if dispatch.withhold("juki", dispatches, suspended, actor=actor, job_id=job_id):
        dispatches = dispatch.still_open("juki", dispatches)
    if not dispatches:
        return None, "", 0
    written = dispatch.Written()
    path, info = write_export(out, JUKI_REQUEST, _rows(dispatches, written), actor=actor, job_id=job_id,
                              plain=plain, recipient=RECIPIENT)
    with transaction.atomic():
        update_in(JukiQuery, {"state": "error"}, "id", written.missing)
        dispatch.mark_sent(written.rows, info.sha256)
        record_many(_sent_audit(dispatches, {"file_sha256": info.sha256}), actor=actor, job_id=job_id)
    return path, info.sha256, written.total


def request_juki(year: int, out: Path, *, actor: Actor, plain: bool = False, progress: bool = False) -> JukiRequestResult:
    """``jutaku juki request``: both steps, under the kind's file lock."""
    with dispatch.file_lock("juki"):
        job_id, counts = create_queries(year, actor=actor, progress=progress)
        path, sha, written = write_queries(out, actor=actor, job_id=job_id, plain=plain)
    return JukiRequestResult(job_id, counts.get("created", 0), path, sha, written,
                             excluded=dispatch.excluded_count(job_id))
