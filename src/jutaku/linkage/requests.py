"""Linkage requests (統合利用番号取得要求, seed ④): who needs an integrated number, and the file for the
linkage server.

Two steps (:mod:`jutaku.linkage.dispatch`), so that a crash loses nothing and never duplicates a request:

1. **create** (a job, chunk = one transaction): every *current* person with a registered My Number, no
   integrated number (or one marked for re-acquisition after a number change, :mod:`jutaku.linkage.reacquire`)
   and no open request gets a new request (state ``open``) with a never-reused 要求番号, in a new dispatch
   — except a person whose use is suspended, who is left out with ``X07`` on the job's exclusion list
   (:func:`jutaku.subjects.suspension.suspended_persons`). The job walks the register in person order and
   the stream leaves out persons already served, so a rerun after a crash simply continues (the "one open
   request per person" constraint backs this up).
2. **write**: requests of persons whose use was suspended since they were made are withheld (closed,
   ``X07`` on the exclusion list, :func:`jutaku.linkage.dispatch.withhold`); every open request of every
   unsent dispatch (this run's and any a crashed run left) is
   written to the linkage-request file — the My Number decrypted in memory, page by page, the file
   encrypted unless plain text is explicitly asked for — then, in one transaction, the dispatches are
   marked sent with the file's hash and each person's request is audited. A request whose person no
   longer has a number (deleted meanwhile) is not written and is closed as an error.
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
from jutaku.dbutil import adapter, analyze, bulk_insert, keyset_pages, update_in
from jutaku.domain.inquiry import Exclusion
from jutaku.exchange.outbound import write_export
from jutaku.formats.layouts import LINKAGE_REQUEST
from jutaku.jobs.runner import ChunkContext, run_job
from jutaku.linkage import dispatch, ids
from jutaku.linkage.models import IntegratedNumber, LinkageRequest
from jutaku.registry.models import Person
from jutaku.registry.pipeline import CIPHER_COLUMN, CIPHER_TABLE
from jutaku.subjects.suspension import suspended_persons

KIND = "linkage-request"
PAGE = 5000

# Persons served already (an integrated number not marked for re-acquisition, or an open request) are left
# out by the stream itself: one anti-join per page instead of a lookup per chunk against a table the job
# itself is filling.
_CANDIDATES_SQL = (
    "SELECT p.id, p.person_id FROM registry_person p "
    "JOIN registry_mynumberrecord m ON m.person_id = p.id "
    "WHERE p.status = %s AND p.id > %s "
    "AND NOT EXISTS (SELECT 1 FROM linkage_integratednumber i WHERE i.person_id = p.id AND i.reacquire_since IS NULL) "
    "AND NOT EXISTS (SELECT 1 FROM linkage_linkagerequest r WHERE r.person_id = p.id AND r.state = 'open') "
    "ORDER BY p.id LIMIT %s"
)
_TO_WRITE_SQL = (
    "SELECT r.id, r.request_no, p.person_id, m.ciphertext FROM linkage_linkagerequest r "
    "JOIN registry_person p ON p.id = r.person_id "
    "LEFT JOIN registry_mynumberrecord m ON m.person_id = r.person_id "
    "WHERE r.dispatch_id = %s AND r.state = 'open' AND r.id > %s ORDER BY r.id LIMIT %s"
)
_SENT_SQL = (
    "SELECT r.id, p.person_id FROM linkage_linkagerequest r JOIN registry_person p ON p.id = r.person_id "
    "WHERE r.dispatch_id = %s AND r.state = 'open' AND r.id > %s ORDER BY r.id LIMIT %s"
)


@dataclass(frozen=True)
class LinkageRequestResult:
    job_id: int
    created: int
    written: int
    path: Path | None
    sha256: str
    without_number: int
    excluded: int = 0  # persons left out (use suspended, X07): the job's exclusion list


def _candidates() -> Iterator[tuple[int, str]]:
    """Current persons with a registered number and neither an integrated number nor an open request,
    in person order (pages of :data:`PAGE`)."""
    current = str(Person.Status.CURRENT)
    for page in keyset_pages(_CANDIDATES_SQL, lambda last: [current, last, PAGE]):
        yield from ((int(pk), pid) for pk, pid in page)


class _CreateHandler:
    def __init__(self, dispatch_id: int) -> None:
        self.dispatch_id = dispatch_id
        self.adapt_time = adapter(LinkageRequest, "created_at")
        self.suspended = suspended_persons()

    def __call__(self, chunk: list[tuple[int, tuple[int, str]]], ctx: ChunkContext) -> Counter[str]:
        todo = [pk for _, (pk, _) in chunk if pk not in self.suspended]
        now = self.adapt_time(datetime.now(UTC))
        numbers = ids.allocate("linkage", len(todo))
        bulk_insert(LinkageRequest, ("request_no", "person", "state", "dispatch", "created_at", "created_job",
                                     "error_text"), [
            (no, pk, str(LinkageRequest.State.OPEN), self.dispatch_id, now, ctx.job_id, "")
            for no, pk in zip(numbers, todo, strict=True)])
        counts = Counter({"created": len(todo)})
        return counts + dispatch.exclude_suspended(chunk, self.suspended, ctx.job_id)



def create_requests(*, actor: Actor, progress: bool = False, chunk_size: int = 20_000) -> tuple[int, dict[str, int]]:
    """Step 1 (module docstring). Returns (job id, counts ``created``)."""
    analyze(LinkageRequest, IntegratedNumber)  # plan the anti-joins on the tables as they are now
    dispatch_id = dispatch.open_dispatch("linkage")
    token = hashlib.sha256(f"{KIND}|{secrets.token_hex(16)}".encode()).hexdigest()
    total = Person.objects.filter(status=Person.Status.CURRENT, my_number__isnull=False).count()
    result = run_job(KIND, items=_candidates(), input_sha256=token, input_name="register", actor=actor,
                     handler=_CreateHandler(dispatch_id), chunk_size=chunk_size, total=total, progress=progress)
    dispatch.set_job(dispatch_id, result.job_id)
    return result.job_id, result.counts


def _rows_to_write(dispatches: list[int], written: dispatch.Written) -> Iterator[dict[str, str]]:
    cipher = FieldCipher()
    written.rows = dict.fromkeys(dispatches, 0)
    for d, page in dispatch.pages(_TO_WRITE_SQL, dispatches):
        have = [(no, pid, bytes(tok)) for _, no, pid, tok in page if tok is not None]
        written.missing.extend(int(rid) for rid, _, _, tok in page if tok is None)
        plain = cipher.decrypt_many(CIPHER_TABLE, CIPHER_COLUMN, [(pid, tok) for _, pid, tok in have])
        written.rows[d] += len(have)
        for (no, pid, _), number in zip(have, plain, strict=True):
            yield {"要求番号": no, "個別業務システム利用番号": pid, "個人番号": number.decode("ascii"),
                   "処理区分": "1"}


def _sent_audit(dispatches: list[int], detail: dict[str, str | int | bool | None]) -> Iterator[AuditEntry]:
    for _, page in dispatch.pages(_SENT_SQL, dispatches):
        for _, pid in page:
            yield AuditEntry(AuditEvent.LINKAGE_REQUEST, [pid], "sent", detail)


def write_requests(out: Path, *, actor: Actor, job_id: int | None, plain: bool = False) -> tuple[Path | None, str, int, int]:
    """Step 2 (module docstring). Returns (file written or ``None`` when nothing was due, its SHA-256,
    requests written, requests set aside because their person no longer has a number)."""
    dispatch.discard_empty("linkage")
    suspended = dict.fromkeys(suspended_persons(), Exclusion.SUSPENDED.value)
    dispatches = dispatch.pending("linkage")
    if dispatch.withhold("linkage", dispatches, suspended, actor=actor, job_id=job_id):
        dispatches = dispatch.still_open("linkage", dispatches)
    if not dispatches:
        return None, "", 0, 0
    written = dispatch.Written()
    path, info = write_export(out, LINKAGE_REQUEST, _rows_to_write(dispatches, written), actor=actor,
                              job_id=job_id, plain=plain, recipient="団体内統合利用番号連携サーバ")
    with transaction.atomic():
        update_in(LinkageRequest, {"state": "error", "error_text": "個人番号が登録されていません（削除済）"}, "id",
                  written.missing)
        dispatch.mark_sent(written.rows, info.sha256)
        record_many(_sent_audit(dispatches, {"file_sha256": info.sha256}), actor=actor, job_id=job_id)
    return path, info.sha256, written.total, len(written.missing)


def request_linkage(out: Path, *, actor: Actor, plain: bool = False, progress: bool = False) -> LinkageRequestResult:
    """``jutaku linkage request``: both steps, under the kind's file lock."""
    with dispatch.file_lock("linkage"):
        job_id, counts = create_requests(actor=actor, progress=progress)
        path, sha, written, missing = write_requests(out, actor=actor, job_id=job_id, plain=plain)
    return LinkageRequestResult(job_id, counts.get("created", 0), written, path, sha, missing,
                                excluded=dispatch.excluded_count(job_id))

