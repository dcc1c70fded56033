"""Linkage requests (統合利用番号取得要求, seed ④): who needs an integrated number, and the file for the
linkage server.

Two steps, so that a crash loses nothing and never duplicates a request:

1. **create** (a job, chunk = one transaction): every *current* person with a registered My Number, no
   integrated number and no open request gets a new request (state ``created``) with a never-reused
   要求番号. The job walks the register in person order and skips persons already served, so a rerun
   after a crash simply continues (the "one open request per person" constraint backs this up).
2. **write**: every request still ``created`` (this run's and any a crashed run left) is written to the
   linkage-request file — the My Number decrypted in memory, chunk by chunk, the file encrypted when
   asked — then, in one transaction, marked ``sent`` with the file's hash and audited per person.
   A crash between the file and that transaction leaves the requests ``created``: the next run writes
   them again (the server's second answer is then refused as already answered).
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
from jutaku.dbutil import adapter, bulk_insert, keyset_pages
from jutaku.exchange.outbound import write_export
from jutaku.formats.layouts import LINKAGE_REQUEST
from jutaku.jobs.runner import ChunkContext, run_job
from jutaku.linkage import ids
from jutaku.linkage.models import LinkageRequest
from jutaku.registry.models import Person
from jutaku.registry.pipeline import CIPHER_COLUMN, CIPHER_TABLE

KIND = "linkage-request"
PAGE = 5000

_CANDIDATES_SQL = (
    "SELECT p.id, p.person_id FROM registry_person p "
    "JOIN registry_mynumberrecord m ON m.person_id = p.id "
    "WHERE p.status = %s AND p.id > %s ORDER BY p.id LIMIT %s"
)
_SERVED_SQL = (
    "SELECT person_id FROM linkage_integratednumber WHERE person_id {in} "
    "UNION SELECT person_id FROM linkage_linkagerequest WHERE state IN ('created', 'sent') AND person_id {in}"
)
_TO_WRITE_SQL = (
    "SELECT r.id, r.request_no, p.person_id, m.ciphertext FROM linkage_linkagerequest r "
    "JOIN registry_person p ON p.id = r.person_id "
    "LEFT JOIN registry_mynumberrecord m ON m.person_id = r.person_id "
    "WHERE r.state = 'created' AND r.id > %s ORDER BY r.id LIMIT %s"
)


@dataclass(frozen=True)
class LinkageRequestResult:
    job_id: int
    created: int
    written: int
    path: Path | None
    sha256: str
    without_number: int


def _candidates() -> Iterator[tuple[int, str]]:
    """Current persons with a registered number, in person order (pages of :data:`PAGE`)."""
    current = str(Person.Status.CURRENT)
    for page in keyset_pages(_CANDIDATES_SQL, lambda last: [current, last, PAGE]):
        yield from ((int(pk), pid) for pk, pid in page)


def _served(pks: list[int]) -> set[int]:
    """Of these persons, those with an integrated number or an open request."""
    if not pks:
        return set()
    if connection.vendor == "postgresql":
        sql = _SERVED_SQL.format(**{"in": "= ANY(%s)"})
        params: list[object] = [pks, pks]
    else:
        marks = "IN (" + ", ".join(["%s"] * len(pks)) + ")"
        sql = _SERVED_SQL.format(**{"in": marks})
        params = [*pks, *pks]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return {int(r[0]) for r in cur.fetchall()}


class _CreateHandler:
    def __init__(self) -> None:
        self.adapt_time = adapter(LinkageRequest, "created_at")

    def __call__(self, chunk: list[tuple[int, tuple[int, str]]], ctx: ChunkContext) -> Counter[str]:
        persons = [item for _, item in chunk]
        served: set[int] = set()
        for start in range(0, len(persons), 500):
            served |= _served([pk for pk, _ in persons[start:start + 500]])
        todo = [(pk, pid) for pk, pid in persons if pk not in served]
        counts: Counter[str] = Counter({"skipped": len(persons) - len(todo)})
        if todo:
            now = self.adapt_time(datetime.now(UTC))
            numbers = ids.allocate("linkage", len(todo))
            bulk_insert(LinkageRequest, ("request_no", "person", "state", "created_at", "created_job",
                                         "sent_file_sha256", "error_text"), [
                (no, pk, str(LinkageRequest.State.CREATED), now, ctx.job_id, "", "")
                for no, (pk, _) in zip(numbers, todo, strict=True)])
            counts["created"] = len(todo)
        return +counts


def create_requests(*, actor: Actor, progress: bool = False, chunk_size: int = 20_000) -> tuple[int, dict[str, int]]:
    """Step 1 (module docstring). Returns (job id, counts ``created``/``skipped``)."""
    token = hashlib.sha256(f"{KIND}|{secrets.token_hex(16)}".encode()).hexdigest()
    total = Person.objects.filter(status=Person.Status.CURRENT, my_number__isnull=False).count()
    result = run_job(KIND, items=_candidates(), input_sha256=token, input_name="register", actor=actor,
                     handler=_CreateHandler(), chunk_size=chunk_size, total=total, progress=progress)
    return result.job_id, result.counts


def _rows_to_write(cipher: FieldCipher, written: list[tuple[int, str]], missing: list[int]) -> Iterator[dict[str, str]]:
    for page in keyset_pages(_TO_WRITE_SQL, lambda last: [last, PAGE]):
        have = [(rid, no, pid, bytes(tok)) for rid, no, pid, tok in page if tok is not None]
        missing.extend(int(rid) for rid, _, _, tok in page if tok is None)
        plain = cipher.decrypt_many(CIPHER_TABLE, CIPHER_COLUMN, [(pid, tok) for _, _, pid, tok in have])
        for (rid, no, pid, _), number in zip(have, plain, strict=True):
            written.append((int(rid), pid))
            yield {"要求番号": no, "個別業務システム利用番号": pid, "個人番号": number.decode("ascii"), "処理区分": "1"}


def write_requests(out: Path, *, actor: Actor, job_id: int | None, encrypt: bool = False) -> tuple[Path | None, str, int, int]:
    """Step 2 (module docstring). Returns (file written or ``None`` when nothing was due, its SHA-256,
    requests written, requests set aside because their person no longer has a number)."""
    if not LinkageRequest.objects.filter(state=LinkageRequest.State.CREATED).exists():
        return None, "", 0, 0
    written: list[tuple[int, str]] = []
    missing: list[int] = []
    path, info = write_export(out, LINKAGE_REQUEST, _rows_to_write(FieldCipher(), written, missing), actor=actor,
                              job_id=job_id, encrypt=encrypt, recipient="団体内統合利用番号連携サーバ")
    now = datetime.now(UTC)
    detail = {"file_sha256": info.sha256}
    with transaction.atomic():
        for start in range(0, len(written), PAGE):
            part = written[start:start + PAGE]
            LinkageRequest.objects.filter(pk__in=[rid for rid, _ in part]).update(
                state=LinkageRequest.State.SENT, sent_at=now, sent_file_sha256=info.sha256)
            record_many((AuditEntry(AuditEvent.LINKAGE_REQUEST, [pid], "sent", detail) for _, pid in part),
                        actor=actor, job_id=job_id)
        for start in range(0, len(missing), PAGE):
            LinkageRequest.objects.filter(pk__in=missing[start:start + PAGE]).update(
                state=LinkageRequest.State.ERROR, error_text="個人番号が登録されていません（削除済）")
    return path, info.sha256, len(written), len(missing)


def request_linkage(out: Path, *, actor: Actor, encrypt: bool = False, progress: bool = False) -> LinkageRequestResult:
    """``jutaku linkage request``: both steps."""
    job_id, counts = create_requests(actor=actor, progress=progress)
    path, sha, written, missing = write_requests(out, actor=actor, job_id=job_id, encrypt=encrypt)
    return LinkageRequestResult(job_id, counts.get("created", 0), written, path, sha, missing)

