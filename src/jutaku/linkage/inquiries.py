"""Inquiry files (情報照会用ファイル作成, F2): ``jutaku inquiry create --procedure JT… --year YYYY``.

The same two steps as the linkage requests (:mod:`jutaku.linkage.requests`):

1. **create** (a job over the procedure's filings of that year, in filing order; chunk = one transaction):
   for each (filing, covered person) the permitted information codes of the person's 住宅区分 (active
   allow-list only: deny by default) become requests, under the rules of :mod:`jutaku.domain.inquiry`;
   a person left out is recorded with a reason code (``X01``–``X08``) on the job's exclusion list. The
   consent is the filing's or the person's latest portal consent (:func:`jutaku.domain.wishes.consents`).
   Then, when the procedure permits information that needs no consent (連絡先等情報, seed II-3 ⑧ 同一住所の者),
   every current, numbered member of a filer's household (same 世帯番号) who has no filing of their own for
   the procedure and year is asked for that information, without consent, under the household's first
   filing (in filing order); a member is asked once per procedure and year however many members filed.
   A filing, person and information already requested (open or answered) is never requested again (a
   partial unique constraint backs the rule), so a rerun after a crash continues where it stopped.
   Persons whose use is suspended (``X07``) or whose integrated number awaits re-acquisition (``X08``)
   are left out.
2. **write**: requests made before their person's use was suspended or number changed are withheld
   (:func:`jutaku.linkage.dispatch.withhold`: closed, on the exclusion list); every other open request of the
   unsent dispatches of that procedure and year
   (:mod:`jutaku.linkage.dispatch`) goes to the inquiry-request file, the integrated number decrypted in
   memory (once per person), with 不開示コード ``2`` for every person whose non-disclosure flag is set
   *at the time of writing* (the flag is sticky: it can only have been set since the request was
   created); the dispatches are marked sent with the file's hash, and the code actually sent is kept on
   each request that carried ``2``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from django.db import connection, transaction

from jutaku.accounts.actor import Actor
from jutaku.allowlist.service import active_rules, permitted_procedure_codes
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry, record, record_many
from jutaku.crypto.envelope import FieldCipher
from jutaku.dbutil import adapter, analyze, bulk_insert, keyset_pages, select_in, update_in
from jutaku.domain import free_text
from jutaku.domain.inquiry import EXCLUSION_LABELS, Candidate, Exclusion, contact_information, exclusion
from jutaku.domain.wareki import format_timestamp
from jutaku.domain.wishes import consents
from jutaku.exchange.outbound import write_export
from jutaku.formats.layouts import INQUIRY_REQUEST
from jutaku.jobs.runner import ChunkContext, run_job
from jutaku.linkage import dispatch, ids
from jutaku.linkage.models import InquiryRequest
from jutaku.linkage.reacquire import reacquiring_persons
from jutaku.linkage.results import CIPHER_COLUMN as INTEGRATED_COLUMN
from jutaku.linkage.results import CIPHER_TABLE as INTEGRATED_TABLE
from jutaku.registry.models import Filing, ImportRejection, Person
from jutaku.subjects.suspension import suspended_persons

KIND = "inquiry-create"
PAGE = 5000
#: Placeholders of the request header (interfaces.md: codes in the 99 block are placeholders).
DEPARTMENT_CODE: Final = "13JUTAKU99"
REQUESTER_CODE: Final = "1300009999"
AFFAIR_CODE: Final = "JM99000000000053"
PROVIDER_CODES: Final = {
    "区市町村長": "PV9900000001", "都道府県知事": "PV9900000002", "都道府県知事等": "PV9900000003",
    "東京都知事（福祉局）": "PV9900000004", "法務大臣": "PV9900000005",
}
UNKNOWN_PROVIDER: Final = "PV9900000000"

_FILINGS_SQL = (
    "SELECT f.id, f.receipt_no, f.consent, p.id, p.person_id, p.housing_category, p.status, "
    "m.id IS NOT NULL, i.id IS NOT NULL, "
    # the person's latest portal consent (照会同意 of an accepted Mynaportal application; NULL: none stated)
    "(SELECT a.consent FROM registry_portalapplication a WHERE a.person_id = p.id AND a.consent IS NOT NULL "
    "AND a.outcome IN ('OK', 'I01') ORDER BY a.received_at DESC, a.id DESC LIMIT 1) FROM registry_filing f "
    "JOIN registry_person p ON p.id = f.person_id "
    "LEFT JOIN registry_mynumberrecord m ON m.person_id = p.id "
    "LEFT JOIN linkage_integratednumber i ON i.person_id = p.id "
    "WHERE f.procedure_code = %s AND f.fiscal_year = %s AND f.id > %s ORDER BY f.id LIMIT %s"
)
# Household members (同一住所の者): each household's first filing of the procedure and year (one grouping
# query), then the current, numbered persons of those households page by page through the 世帯番号 index;
# persons with a filing of their own are asked through it (the integrated number is checked by the rule).
_ANCHORS_SQL = (
    "SELECT a.household_no, a.fid, f.receipt_no FROM (SELECT q.household_no AS household_no, MIN(g.id) AS fid "
    "FROM registry_filing g JOIN registry_person q ON q.id = g.person_id "
    "WHERE g.procedure_code = %s AND g.fiscal_year = %s GROUP BY q.household_no) a "
    "JOIN registry_filing f ON f.id = a.fid ORDER BY a.fid"
)
_MEMBERS_SQL = (
    "SELECT p.household_no, p.id, p.person_id, p.housing_category, p.status, i.id IS NOT NULL "
    "FROM registry_person p JOIN registry_mynumberrecord m ON m.person_id = p.id "
    "LEFT JOIN linkage_integratednumber i ON i.person_id = p.id WHERE p.status = '1' AND p.household_no {in}"
)
_ALREADY_SQL = ("SELECT filing_id, person_id, info_code FROM linkage_inquiryrequest "
                "WHERE state IN ('open', 'answered') AND filing_id {in}")
_MEMBER_ALREADY_SQL = ("SELECT person_id, info_code, procedure_code, fiscal_year FROM linkage_inquiryrequest "
                       "WHERE state IN ('open', 'answered') AND person_id {in}")
_TO_WRITE_SQL = (
    "SELECT r.id, r.request_no, r.info_code, r.non_disclosure, r.person_id, p.person_id, p.housing_category, "
    "p.non_disclosure, i.ciphertext FROM linkage_inquiryrequest r "
    "JOIN registry_person p ON p.id = r.person_id "
    "LEFT JOIN linkage_integratednumber i ON i.person_id = r.person_id "
    "WHERE r.dispatch_id = %s AND r.state = 'open' AND r.id > %s ORDER BY r.id LIMIT %s"
)
_SENT_SQL = (
    "SELECT r.id, p.person_id, r.non_disclosure FROM linkage_inquiryrequest r "
    "JOIN registry_person p ON p.id = r.person_id "
    "WHERE r.dispatch_id = %s AND r.state = 'open' AND r.id > %s ORDER BY r.id LIMIT %s"
)


@dataclass(frozen=True)
class InquiryCreateResult:
    job_id: int
    counts: dict[str, int]
    path: Path | None
    sha256: str
    written: int


def _permissions(procedure: str) -> tuple[dict[str, dict[str, bool]], dict[tuple[str, str], str]]:
    """{住宅区分: {information: requires consent}} and {(住宅区分, information): provider} of the active list."""
    permitted: dict[str, dict[str, bool]] = {}
    providers: dict[tuple[str, str], str] = {}
    for rule in active_rules():
        if rule.procedure_code == procedure:
            permitted.setdefault(rule.housing_category, {})[rule.info_code] = rule.requires_consent
            providers[(rule.housing_category, rule.info_code)] = rule.provider
    return permitted, providers


def _filings(procedure: str, year: int) -> Iterator[tuple[Any, ...]]:
    for page in keyset_pages(_FILINGS_SQL, lambda last: [procedure, year, last, PAGE]):
        yield from page


def _members(procedure: str, year: int) -> Iterator[tuple[Any, ...]]:
    """Household members to ask for contact information, in the filings' shape (no consent), tagged; in the
    order of their household's first filing, then of the person."""
    with connection.cursor() as cur:
        cur.execute(_ANCHORS_SQL, [procedure, year])
        anchors = [(str(h), int(fid), str(receipt)) for h, fid, receipt in cur.fetchall()]
    filed = frozenset(Filing.objects.filter(procedure_code=procedure, fiscal_year=year)
                      .values_list("person_id", flat=True))
    for start in range(0, len(anchors), PAGE):
        part = anchors[start:start + PAGE]
        found: dict[str, list[tuple[Any, ...]]] = {}
        for household, *person in select_in(_MEMBERS_SQL, [h for h, _, _ in part]):
            if int(person[0]) not in filed:
                found.setdefault(household, []).append(tuple(person))
        for household, fid, receipt in part:
            for ppk, pid, housing, status, has_integrated in sorted(found.get(household, [])):
                yield (fid, receipt, False, ppk, pid, housing, status, True, has_integrated, None, True)


def _items(procedure: str, year: int, household: bool) -> Iterator[tuple[Any, ...]]:
    yield from ((*row, False) for row in _filings(procedure, year))
    if household:
        yield from _members(procedure, year)


class _CreateHandler:
    def __init__(self, procedure: str, year: int, permitted: dict[str, dict[str, bool]], *, first_run: bool,
                 dispatch_id: int) -> None:
        self.procedure, self.year, self.permitted, self.dispatch_id = procedure, year, permitted, dispatch_id
        # No request of this procedure and year existed when the job started: each filing comes once per
        # run, so none can have been requested before and the lookup is skipped.
        self.first_run = first_run
        self.adapt_time = adapter(InquiryRequest, "created_at")
        self.current = str(Person.Status.CURRENT)
        self.suspended, self.reacquiring = suspended_persons(), reacquiring_persons()

    def _already(self, chunk: list[tuple[int, tuple[Any, ...]]]) -> dict[tuple[int, int], set[str]]:
        """Codes requested before: by (filing, person) for filings, by (0, person) for household members
        (whatever filing of this procedure and year they were asked under)."""
        already: dict[tuple[int, int], set[str]] = {}
        if self.first_run:
            return already
        for fid, ppk, info in select_in(_ALREADY_SQL, sorted({item[0] for _, item in chunk if not item[-1]})):
            already.setdefault((int(fid), int(ppk)), set()).add(info)
        for ppk, info, procedure, year in select_in(_MEMBER_ALREADY_SQL, [item[3] for _, item in chunk if item[-1]]):
            if procedure == self.procedure and int(year) == self.year:
                already.setdefault((0, int(ppk)), set()).add(info)
        return already

    def __call__(self, chunk: list[tuple[int, tuple[Any, ...]]], ctx: ChunkContext) -> Counter[str]:
        already = self._already(chunk)
        counts: Counter[str] = Counter()
        todo: list[tuple[int, int, str]] = []  # filing, person pk, information
        excluded: list[tuple[int, str, str, str]] = []  # line, receipt, 個人ID, code
        for index, (fid, receipt, consent, ppk, pid, housing, status, has_number, has_integrated, portal,
                    member) in chunk:
            permitted = self.permitted.get(housing, {})
            codes, reason = exclusion(
                Candidate(status == self.current, bool(has_number), bool(has_integrated),
                          consents(bool(consent), None if portal is None else bool(portal)),
                          suspended=int(ppk) in self.suspended, reacquiring=int(ppk) in self.reacquiring),
                contact_information(permitted) if member else permitted,
                already.get((0 if member else int(fid), int(ppk)), set()))
            if reason is not None:
                counts[reason.value] += 1
                excluded.append((index + 1, receipt, pid, reason.value))
                continue
            counts["household" if member else "persons"] += 1
            todo.extend((int(fid), int(ppk), code) for code in codes)
        if todo:
            now = self.adapt_time(datetime.now(UTC))
            numbers = ids.allocate("inquiry", len(todo))
            bulk_insert(InquiryRequest, (
                "request_no", "filing", "person", "procedure_code", "info_code", "fiscal_year", "non_disclosure",
                "state", "dispatch", "created_at", "created_job"), [
                (no, fid, ppk, self.procedure, code, self.year, "1", "open", self.dispatch_id, now, ctx.job_id)
                for no, (fid, ppk, code) in zip(numbers, todo, strict=True)])
            counts["requests"] += len(todo)
        bulk_insert(ImportRejection, ("job_id", "line_no", "receipt_no", "person_id", "code", "reason"), [
            (ctx.job_id, line, receipt[:20], pid, code, EXCLUSION_LABELS[code])
            for line, receipt, pid, code in excluded])
        return counts


def create_inquiries(procedure: str, year: int, *, actor: Actor, progress: bool = False,
                     chunk_size: int = 20_000) -> tuple[int, dict[str, int]]:
    """Step 1 (module docstring). Returns (job id, counts: ``requests``, ``persons`` (filings), ``household``
    (members asked for contact information) and X codes)."""
    permitted, _ = _permissions(procedure)
    household = any(contact_information(codes) for codes in permitted.values())
    first_run = not InquiryRequest.objects.filter(procedure_code=procedure, fiscal_year=year).exists()
    if not first_run:  # earlier runs added many rows: look them up on fresh statistics
        analyze(InquiryRequest)
    dispatch_id = dispatch.open_dispatch("inquiry", procedure=procedure, year=year)
    token = hashlib.sha256(f"{KIND}|{procedure}|{year}|{secrets.token_hex(16)}".encode()).hexdigest()
    total = Filing.objects.filter(procedure_code=procedure, fiscal_year=year).count()
    result = run_job(KIND, items=_items(procedure, year, household), input_sha256=token, input_name=f"{procedure}-{year}",
                     actor=actor, handler=_CreateHandler(procedure, year, permitted, first_run=first_run,
                                                         dispatch_id=dispatch_id),
                     chunk_size=chunk_size,
                     total=total, progress=progress, options={"procedure": procedure, "year": year})
    dispatch.set_job(dispatch_id, result.job_id)
    return result.job_id, result.counts


def _rows_to_write(procedure: str, year: int, dispatches: list[int], actor: Actor,
                   providers: dict[tuple[str, str], str], written: dispatch.Written) -> Iterator[dict[str, str]]:
    cipher = FieldCipher()
    stamp = format_timestamp(datetime.now(UTC))
    user = actor.username[:30]
    period = (f"{year}0401", f"{year + 1}0331")
    written.rows = dict.fromkeys(dispatches, 0)
    for d, page in dispatch.pages(_TO_WRITE_SQL, dispatches):
        written.missing.extend(int(r[0]) for r in page if r[8] is None)
        have = [r for r in page if r[8] is not None]
        # A person's requests lie together: decrypt each integrated number once.
        tokens = {int(r[4]): (r[5], bytes(r[8])) for r in have}
        numbers = dict(zip(tokens, cipher.decrypt_many(INTEGRATED_TABLE, INTEGRATED_COLUMN, list(tokens.values())),
                           strict=True))
        written.rows[d] += len(have)
        for rid, no, info, code, ppk, pid, housing, flagged, _ in have:
            code = "2" if flagged or code == "2" else "1"
            if code == "2":
                written.flagged.append(int(rid))
            yield {
                "要求番号": no, "個別業務システム利用番号": pid, "団体内統合利用番号": numbers[int(ppk)].decode("ascii"),
                "照会依頼日時": stamp, "部署コード": DEPARTMENT_CODE, "ユーザーID": user,
                "照会者機関コード": REQUESTER_CODE, "不開示コード": code, "事務コード": AFFAIR_CODE,
                "事務手続コード": procedure, "提供者機関コード": PROVIDER_CODES.get(providers.get((housing, info), ""),
                                                                         UNKNOWN_PROVIDER),
                "特定個人情報名コード": info, "照会年度": str(year), "照会開始日付": period[0], "照会終了日付": period[1],
            }


def write_inquiries(procedure: str, year: int, out: Path, *, actor: Actor, job_id: int | None,
                    plain: bool = False) -> tuple[Path | None, str, int]:
    """Step 2 (module docstring): (file or ``None`` when nothing is due, SHA-256, requests written)."""
    dispatch.discard_empty("inquiry")
    dispatches = dispatch.pending("inquiry", procedure=procedure, year=year)
    if dispatch.withhold("inquiry", dispatches, withheld_codes(), actor=actor, job_id=job_id):
        dispatches = dispatch.still_open("inquiry", dispatches)
    if not dispatches:
        return None, "", 0
    _, providers = _permissions(procedure)
    written = dispatch.Written()
    path, info = write_export(out, INQUIRY_REQUEST, _rows_to_write(procedure, year, dispatches, actor, providers,
                                                                   written),
                              actor=actor, job_id=job_id, plain=plain, recipient="団体内統合利用番号連携サーバ")
    with transaction.atomic():
        update_in(InquiryRequest, {"state": "error"}, "id", written.missing)
        update_in(InquiryRequest, {"non_disclosure": "2"}, "id", written.flagged)
        dispatch.mark_sent(written.rows, info.sha256)
        record_many(_sent_audit(dispatches, info.sha256, procedure), actor=actor, job_id=job_id)
    return path, info.sha256, written.total


def withheld_codes() -> dict[int, str]:
    """{person pk: code} of the persons no request may be sent about now: use suspended (``X07``, first),
    integrated number awaiting re-acquisition (``X08``)."""
    codes = dict.fromkeys(reacquiring_persons(), Exclusion.REACQUIRING.value)
    return codes | dict.fromkeys(suspended_persons(), Exclusion.SUSPENDED.value)


def _sent_audit(dispatches: list[int], sha256: str, procedure: str) -> Iterator[AuditEntry]:
    """One record per person (and code) for each run of that person's requests in the file — one per
    person and filing — streamed from the database after the dispatches are marked sent."""
    details = {code: {"file_sha256": sha256, "procedure": procedure, "non_disclosure": code} for code in ("1", "2")}
    run: tuple[str, str] | None = None
    n = 0
    for _, page in dispatch.pages(_SENT_SQL, dispatches):
        for _, pid, code in page:
            if (pid, code) != run:
                if run is not None:
                    yield AuditEntry(AuditEvent.INQUIRY_REQUEST, [run[0]], "sent", details[run[1]] | {"requests": n})
                run, n = (pid, code), 0
            n += 1
    if run is not None:
        yield AuditEntry(AuditEvent.INQUIRY_REQUEST, [run[0]], "sent", details[run[1]] | {"requests": n})


class ProcedureNotPermitted(Exception):
    """The procedure is not in the active allow-list: no inquiry file may be made for it (AUTHZ-04)."""


def create_inquiry_file(procedure: str, year: int, out: Path, *, actor: Actor, plain: bool = False,
                        progress: bool = False) -> InquiryCreateResult:
    """``jutaku inquiry create``: both steps. A procedure outside the active allow-list is refused and
    the refusal audited (raises :class:`ProcedureNotPermitted`)."""
    if procedure not in permitted_procedure_codes():
        number = free_text.contains_my_number(procedure)  # recorded and shown withheld (ADR 0020)
        shown = "withheld" if number else procedure[:20]
        with transaction.atomic():
            record(AuditEvent.INQUIRY_REFUSE, actor=actor, objects=[f"procedure:{shown}"],
                   outcome="not_permitted", detail={"year": year})
        raise ProcedureNotPermitted(free_text.message("手続コード") if number else
                                    f"手続コード {shown} は情報連携の許可リストにありません（照会できません）")
    with dispatch.file_lock("inquiry"):
        job_id, counts = create_inquiries(procedure, year, actor=actor, progress=progress)
        path, sha, written = write_inquiries(procedure, year, out, actor=actor, job_id=job_id, plain=plain)
    return InquiryCreateResult(job_id, counts, path, sha, written)
