"""Reading the register for the staff screens (対象者検索・対象者詳細): search, one person's file, lookup
by My Number and the supervisor's unmask.

Seed section III: every read and search is an operation recorded with user, time and objects, so each
function here writes its audit record in its own transaction. Searches are search-first and capped
(no browse-all list); the audit records which kinds of criteria were used and how many persons were
shown, never the values (a name or a birth date is personal data) and never a number. A My Number is
looked up only through its blind index (CRY-02) and shown in full only by :func:`unmask_number`
(step-up, reason). Names are searched as staff write them (ADR 0023): the kanji name by its variant-folded
key (髙橋 finds 高橋), the kana by its matching key (ADR 0004), both by prefix; the birth date in 西暦 or 和暦.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet

from jutaku.accounts.actor import Actor
from jutaku.accounts.permissions import Permission
from jutaku.allowlist.names import Names, current
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.crypto.blind_index import get_indexer, match_candidates
from jutaku.crypto.envelope import FieldCipher, KeyDestroyed
from jutaku.domain import free_text, my_number
from jutaku.domain.japanese import TextTooLong, has_control_chars, kana_key, name_search_key
from jutaku.domain.juki import LABELS as JUKI_OUTCOMES
from jutaku.domain.wareki import InvalidDate, describe_date, jst_date, parse_typed_date
from jutaku.formats.layouts import (
    DELETION_REASON,
    HOUSING,
    INQUIRY_RESULT,
    JUKI_RESULT,
    KUBUN,
    REGISTRATION_OUTCOME,
    SEX,
    STATUS,
    ZOKUGARA,
)
from jutaku.juki.models import JukiQuery
from jutaku.linkage.models import InquiryRequest, IntegratedNumber, LinkageRequest
from jutaku.registry.labels import id_document_label
from jutaku.registry.models import Filing, MyNumberRecord, Person, PortalApplication
from jutaku.registry.non_disclosure import pending_clear
from jutaku.registry.pipeline import CIPHER_COLUMN, CIPHER_TABLE
from jutaku.retention.models import DeletionRecord
from jutaku.subjects.suspension import Suspension, suspension_of

#: Most persons one search shows; more matches give a note asking for narrower criteria.
SEARCH_LIMIT: Final = 50
REASON_MIN: Final = 4
REASON_MAX: Final = 200
_PERSON_ID_LENGTH: Final = 10
_HOUSEHOLD_MAX: Final = 20
_NUMBER_ELSEWHERE: Final = "個人番号は「個人番号で検索」から検索してください。"


class QueryRefused(ValueError):
    """The input cannot be searched; the message is shown to the user and never quotes the input."""


class NotPermitted(PermissionError):
    """The actor lacks the permission (the views check it first; services check again)."""


def _require(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        raise NotPermitted(permission.value)


@dataclass(frozen=True)
class PersonRow:
    """One line of a result list: no number, only whether one is registered. ``deleted``: a shell left by
    a bulk deletion (削除済み), whose name, kana and birth date are blank."""

    pk: int
    person_id: str
    name: str
    name_kana: str
    kana_key: str
    birth_date: date | None
    housing: str
    status: str
    numbered: bool
    deleted: bool = False


@dataclass(frozen=True)
class SearchResult:
    rows: list[PersonRow]
    more: bool  # more persons matched than SEARCH_LIMIT
    fields: tuple[str, ...]
    birth_date_read: str = ""  # how the typed birth date was understood: 1970年3月1日（昭和45年3月1日）


#: The search criteria in the order the audit names them.
CRITERIA: Final = ("person_id", "name", "kana", "birth_date", "household_no")


@dataclass(frozen=True)
class Criteria:
    person_id: str = ""
    name: str = ""  # the kanji key prefix (:func:`jutaku.domain.japanese.name_search_key`)
    kana: str = ""  # the kana *key* prefix
    birth_date: date | None = None
    household_no: str = ""

    @property
    def used(self) -> tuple[str, ...]:
        return tuple(name for name in CRITERIA if getattr(self, name))


def _digits(value: str, label: str, *, exact: int | None = None, most: int = _HOUSEHOLD_MAX) -> str:
    text = unicodedata.normalize("NFKC", value).strip()
    ok = text.isascii() and text.isdigit() and (len(text) == exact if exact else len(text) <= most)
    if not ok:
        raise QueryRefused(f"{label}は{exact}桁の数字で入力してください。" if exact
                           else f"{label}は{most}桁以内の数字で入力してください。")
    return text


def _name_key(value: str, label: str, key: Callable[[str], str]) -> str:
    if not value.strip():
        return ""
    try:
        found = key(value.strip())
    except TextTooLong:
        raise QueryRefused(f"{label}が長すぎます。") from None
    if not found or has_control_chars(found):
        raise QueryRefused(f"{label}を正しく入力してください。")
    return found


def _birth_date(value: str, today: date) -> date | None:
    if not value.strip():
        return None
    try:
        return parse_typed_date(value, today=today)
    except InvalidDate as exc:
        text = str(exc).rstrip("。") + "。"
        raise QueryRefused(text if text.startswith("生年月日") else f"生年月日を確認してください。{text}") from None


def parse_criteria(person_id: str = "", kana: str = "", household_no: str = "", *, name: str = "",
                   birth_date: str = "", today: date | None = None) -> Criteria:
    """Validate the search form. A value holding a My Number is refused: numbers are searched by POST only.

    ``name`` (氏名（漢字）) and ``kana`` are prefixes of the folded keys; ``birth_date`` is 西暦 or 和暦
    (:func:`jutaku.domain.wareki.parse_typed_date`), never after ``today`` (JST, default: now).
    """
    if any(free_text.contains_my_number(v) for v in (person_id, kana, household_no, name, birth_date)):
        raise QueryRefused(_NUMBER_ELSEWHERE)
    found = Criteria(
        person_id=_digits(person_id, "個人ID", exact=_PERSON_ID_LENGTH) if person_id.strip() else "",
        name=_name_key(name, "氏名（漢字）", name_search_key),
        kana=_name_key(kana, "氏名（カナ）", kana_key),
        birth_date=_birth_date(birth_date, today or jst_date(datetime.now(UTC))),
        household_no=_digits(household_no, "世帯番号") if household_no.strip() else "")
    if not found.used:
        raise QueryRefused("検索条件を1つ以上入力してください。")
    return found


def _prefix(qs: QuerySet[Person], column: str, prefix: str) -> QuerySet[Person]:
    """Persons whose ``column`` (``kana_key`` or ``kanji_key``) starts with ``prefix``, through an index on
    both databases.

    SQLite compares text by code point (BINARY, UTF-8 bytes), so the range ``prefix <= key < prefix +
    U+10FFFF`` is exactly the prefix (no character sorts after U+10FFFF, supplementary-plane kanji such as
    𡈽 included) and walks the ordinary index. On PostgreSQL a range is exact only under the "C" collation
    (under a linguistic one ガ sorts with カ and the range loses rows), so there the prefix is a
    ``LIKE 'x%'``, which uses the ``varchar_pattern_ops`` index Django creates beside every indexed
    CharField (``registry_person_kana_key_…_like``) whatever the database's collation.
    """
    if connection.vendor == "postgresql":
        return qs.filter(**{f"{column}__startswith": prefix})
    return qs.filter(**{f"{column}__gte": prefix, f"{column}__lt": prefix + "\U0010ffff"})


def _rows(qs: QuerySet[Person], limit: int) -> list[PersonRow]:
    numbered = Exists(MyNumberRecord.objects.filter(person_id=OuterRef("pk")))
    values = qs.annotate(numbered=numbered).values_list(
        "pk", "person_id", "name", "name_kana", "kana_key", "birth_date", "housing_category", "status", "numbered",
        "deleted_at")
    status = dict(Person.Status.choices)
    return [PersonRow(pk, pid, name, kana, key, birth, HOUSING.get(housing, housing), status.get(st, st), bool(n),
                      deleted is not None)
            for pk, pid, name, kana, key, birth, housing, st, n, deleted in values[:limit]]


def search_queryset(criteria: Criteria) -> QuerySet[Person]:
    """The persons matching every criterion (AND); each criterion is served by an index (see the EXPLAIN test)."""
    qs = Person.objects.all()
    if criteria.person_id:
        qs = qs.filter(person_id=criteria.person_id)
    if criteria.household_no:
        qs = qs.filter(household_no=criteria.household_no)
    if criteria.birth_date:
        qs = qs.filter(birth_date=criteria.birth_date)
    if criteria.name:
        qs = _prefix(qs, "kanji_key", criteria.name)
    if criteria.kana:
        qs = _prefix(qs, "kana_key", criteria.kana)
    return qs if criteria.name or criteria.kana else qs.order_by("person_id")


def search_persons(*, actor: Actor, person_id: str = "", kana: str = "", household_no: str = "", name: str = "",
                   birth_date: str = "", limit: int = SEARCH_LIMIT) -> SearchResult:
    """Persons matching every given criterion — exact 個人ID, kanji name key prefix, kana key prefix, birth
    date (西暦 or 和暦), exact 世帯番号 — at most ``limit``.

    Raises :class:`QueryRefused` for input that cannot be searched (:func:`parse_criteria`). A name prefix
    is read without ORDER BY (ordering the whole match would sort every row of a short prefix; the index
    scan yields keys in order anyway) and the page is sorted here. The audit record names the kinds of
    criteria used (``name+birth_date``), the count and the persons shown, never what was typed.
    """
    _require(actor, Permission.PERSONS_VIEW)
    criteria = parse_criteria(person_id, kana, household_no, name=name, birth_date=birth_date)
    qs = search_queryset(criteria)
    rows = _rows(qs, limit + 1)
    more = len(rows) > limit
    rows = sorted(rows[:limit], key=lambda r: (r.kana_key, r.person_id))
    with transaction.atomic():
        record(AuditEvent.PERSON_SEARCH, actor=actor, objects=[r.person_id for r in rows],
               detail={"fields": "+".join(criteria.used), "count": len(rows), "more": more})
    return SearchResult(rows, more, criteria.used,
                        describe_date(criteria.birth_date) if criteria.birth_date else "")


def find_by_number(raw: str, *, actor: Actor) -> PersonRow | None:
    """The person holding this My Number, through the blind index; ``None`` when nobody does.

    Raises :class:`QueryRefused` for a malformed number or a wrong check digit. The audit record says
    who searched and whether someone was found (and whom), never the number.
    """
    _require(actor, Permission.PERSONS_VIEW)
    number = my_number.normalise(raw[:my_number.MAX_INPUT_LENGTH + 1])
    if not my_number.is_valid(number):
        with transaction.atomic():
            record(AuditEvent.NUMBER_SEARCH, actor=actor, outcome="invalid")
        raise QueryRefused("個人番号の桁数またはチェックデジットが不正です。")
    index = get_indexer().compute_canonical(number)
    candidates = list(MyNumberRecord.objects.filter(blind_index=index).values_list("person_id", "person__person_id",
                                                                                   "ciphertext"))
    cipher = FieldCipher()

    def reveal(item: tuple[int, str], token: bytes) -> bytes:
        try:
            return cipher.decrypt(item[1], CIPHER_TABLE, CIPHER_COLUMN, token)
        except KeyDestroyed:
            return b""

    matched = match_candidates(number, [((pk, pid), bytes(token)) for pk, pid, token in candidates], reveal)
    rows = _rows(Person.objects.filter(pk=matched[0][0]), 1) if matched else []
    with transaction.atomic():
        record(AuditEvent.NUMBER_SEARCH, actor=actor, objects=[r.person_id for r in rows],
               outcome="found" if rows else "not_found")
    return rows[0] if rows else None


# ------------------------------------------------------------------------------------------ the number


@dataclass(frozen=True)
class NumberState:
    """A person's My Number as a screen may show it: masked, or 削除済み / 未登録, with its provenance."""

    state: str  # "registered", "deleted" (crypto-erased) or "none"
    masked: str = ""
    source: str = ""
    receipt_no: str = ""
    received_date: date | None = None
    registered_at: datetime | None = None
    id_document: str = ""  # 本人確認書類・方法, by name

    @property
    def label(self) -> str:
        return {"registered": self.masked, "deleted": "削除済み", "none": "未登録"}[self.state]


def _plain_number(person: Person, rec: MyNumberRecord | None) -> str | None:
    """The decrypted number, or ``None`` when there is none or its data key was destroyed."""
    if rec is None:
        return None
    try:
        return FieldCipher().decrypt(person.person_id, CIPHER_TABLE, CIPHER_COLUMN, bytes(rec.ciphertext)).decode("ascii")
    except KeyDestroyed:
        return None


def _was_deleted(person: Person) -> bool:
    return DeletionRecord.objects.filter(person=person).exists()


def number_state(person: Person, rec: MyNumberRecord | None, *, deleted: bool) -> NumberState:
    """``deleted``: the person has a deletion record (削除記録); a number registered after it is shown."""
    plain = _plain_number(person, rec)
    if rec is None or plain is None:
        return NumberState("deleted" if rec is not None or deleted else "none")
    return NumberState("registered", my_number.mask(plain), rec.get_source_display(), rec.receipt_no,
                       rec.received_date, rec.registered_at, id_document_label(rec.source, rec.id_document))


@dataclass(frozen=True)
class Unmasked:
    person_pk: int
    person_id: str
    name: str
    state: str  # "shown", "deleted" or "none"
    number: str = field(default="", repr=False)


def check_reason(reason: str) -> str:
    text = reason.strip()
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise QueryRefused(f"表示の理由を{REASON_MIN}文字以上{REASON_MAX}文字以内で入力してください。")
    free_text.check(text, "表示の理由", QueryRefused)
    if has_control_chars(text):
        raise QueryRefused("表示の理由に使えない文字（制御文字）が含まれています。")
    return text


def unmask_number(pk: int, *, actor: Actor, reason: str) -> Unmasked | None:
    """The full My Number of one person for a supervisor who gave a reason (step-up checked by the view).

    ``None`` when the person does not exist. The audit record (same transaction as the decryption)
    holds the reason and the outcome, never the number. A crypto-erased number is ``deleted``.
    """
    _require(actor, Permission.NUMBERS_UNMASK)
    person = Person.objects.filter(pk=pk).only("pk", "person_id", "name").first()
    if person is None:
        return None
    try:
        text = check_reason(reason)
    except QueryRefused:
        with transaction.atomic():
            record(AuditEvent.NUMBER_UNMASK, actor=actor, objects=[person.person_id], outcome="refused")
        raise
    with transaction.atomic():
        rec = MyNumberRecord.objects.filter(person=person).first()
        plain = _plain_number(person, rec)
        state = "shown" if plain else ("deleted" if rec is not None or _was_deleted(person) else "none")
        record(AuditEvent.NUMBER_UNMASK, actor=actor, objects=[person.person_id], outcome=state,
               detail={"reason": text})
    return Unmasked(person.pk, person.person_id, person.name, state, plain or "")


# --------------------------------------------------------------------------------------- the person file

#: Most rows of each list on the detail page (filings, inquiries, Juki-net queries), newest first.
DETAIL_LIMIT: Final = 100
Row = dict[str, Any]


@dataclass(frozen=True)
class PersonFile:
    """What 対象者詳細 shows. ``non_disclosure`` is ``None`` for an actor who may not know about it (then
    no row carries a 不開示 value either). For a deleted person's shell (``person.is_erased``) the lists
    are empty and the page says 削除済み."""

    person: Person
    labels: dict[str, str]
    history: list[Row]
    number: NumberState
    integrated: str
    filings: list[Row]
    non_disclosure: Row | None
    inquiries: list[Row]
    juki: list[Row]
    follow_up: list[Row]
    deletions: list[Row]
    truncated: bool
    #: The use suspension in force (利用停止中, seed V-1), or ``None``.
    suspension: Suspension | None = None
    #: Mynaportal applications (受付番号, 受付日時, 照会同意, and 不開示希望 when ``non_disclosure`` is shown).
    applications: list[Row] = field(default_factory=list)


def may_see_non_disclosure(actor: Actor) -> bool:
    """不開示 (DV) is shown only to the roles that set or clear it or must carry it on inquiries."""
    return any(actor.can(p) for p in (Permission.NON_DISCLOSURE_SET, Permission.NON_DISCLOSURE_CLEAR,
                                      Permission.INQUIRY_CREATE))


def _labels(p: Person) -> dict[str, str]:
    return {"kind": KUBUN.get(p.kind, p.kind), "relationship": ZOKUGARA.get(p.relationship, p.relationship),
            "housing": HOUSING.get(p.housing_category, p.housing_category), "sex": SEX.get(p.sex, p.sex),
            "status": STATUS.get(p.status, p.status),
            "status_source": Person.StatusSource(p.status_source).label}


def _integrated(p: Person) -> str:
    held = IntegratedNumber.objects.filter(person=p).values_list("reacquire_since", flat=True)
    if held:
        return "取得済" if held[0] is None else "再取得待ち（個人番号の変更後、新しい番号で再取得します）"
    last = LinkageRequest.objects.filter(person=p).order_by("-id").values_list("state", flat=True).first()
    if last == LinkageRequest.State.OPEN:
        return "依頼中"
    return "未取得" if last is None else f"未取得（前回: {LinkageRequest.State(last).label}）"


def _inquiries(p: Person, shown: bool, names: Names) -> list[Row]:
    reqs = list(InquiryRequest.objects.filter(person=p).select_related("dispatch", "result")
                .order_by("-id")[:DETAIL_LIMIT + 1])
    rows = []
    for r in reqs:
        res = getattr(r, "result", None)
        rows.append({"request_no": r.request_no, "procedure": names.procedure(r.procedure_code),
                     "info_name": names.info(r.info_code), "fiscal_year": r.fiscal_year,
                     "state": r.progress_label(), "created_at": r.created_at, "sent_at": r.dispatch.sent_at,
                     "answered_at": r.answered_at, "non_disclosure": r.non_disclosure == "2" if shown else None,
                     "result": INQUIRY_RESULT.get(res.result_code, res.result_code) if res else "",
                     "unset_reason": res.unset_reason if res else "", "discrepancy": res.discrepancy if res else ""})
    return rows


def _juki(p: Person) -> list[Row]:
    rows = []
    for q in JukiQuery.objects.filter(person=p).select_related("dispatch", "result").order_by("-id")[:DETAIL_LIMIT + 1]:
        res = getattr(q, "result", None)
        rows.append({"request_no": q.query_no, "fiscal_year": q.fiscal_year, "state": q.progress_label(),
                     "created_at": q.created_at, "sent_at": q.dispatch.sent_at, "answered_at": q.answered_at,
                     "result": JUKI_RESULT.get(res.result_code, res.result_code) if res else "",
                     "outcome": JUKI_OUTCOMES.get(res.outcome, res.outcome) if res else "",
                     "change_reason": res.change_reason if res else "", "change_date": res.change_date if res else None,
                     "discrepancy": res.discrepancy if res else ""})
    return rows


def _filings(p: Person, shown: bool, names: Names) -> list[Row]:
    return [{"receipt_no": f.receipt_no, "procedure": names.procedure(f.procedure_code), "fiscal_year": f.fiscal_year,
             "received_date": f.received_date, "consent": f.consent,
             "non_disclosure_wish": f.non_disclosure_wish if shown else None}
            for f in Filing.objects.filter(person=p).order_by("-fiscal_year", "-received_date", "-id")[:DETAIL_LIMIT + 1]]


def _applications(p: Person, shown: bool) -> list[Row]:
    return [{"receipt_no": a.receipt_no, "received_at": a.received_at, "consent": a.consent,
             "outcome": f"{a.outcome} {REGISTRATION_OUTCOME[a.outcome]}" if a.outcome in REGISTRATION_OUTCOME
             else a.outcome,
             "non_disclosure_wish": a.non_disclosure_wish if shown else None}
            for a in PortalApplication.objects.filter(person=p).order_by("-received_at", "-id")[:DETAIL_LIMIT]]


def _non_disclosure(p: Person) -> Row:
    pending = pending_clear(p.pk) if p.non_disclosure else None
    return {"flag": p.non_disclosure, "since": p.non_disclosure_since, "pending": pending.pk if pending else None}


def _deletions(p: Person) -> list[Row]:
    return [{"deletion_no": d.deletion_no, "reason": DELETION_REASON.get(d.reason, d.reason),
             "executed_at": d.executed_at, "requested_by": d.requested_by, "approved_by": d.approved_by,
             "items": d.items, "method": d.method, "backup_expires_on": d.backup_expires_on}
            for d in DeletionRecord.objects.filter(person=p).order_by("-id")]


def person_file(pk: int, *, actor: Actor) -> PersonFile | None:
    """Everything 対象者詳細 shows about one person (``None``: no such person), in a handful of indexed
    queries; audited as ``person:view``. The number is decrypted only to be masked."""
    _require(actor, Permission.PERSONS_VIEW)
    person = Person.objects.filter(pk=pk).select_related("my_number").first()
    if person is None:
        return None
    shown = may_see_non_disclosure(actor)
    status = dict(Person.Status.choices)
    history = [{"old": status.get(c.old_status, c.old_status), "new": status.get(c.new_status, c.new_status),
                "status_date": c.status_date, "recorded_at": c.recorded_at,
                "source": Person.StatusSource(c.source).label} for c in person.status_changes.all()]
    names = current()
    inquiries, juki, filings = _inquiries(person, shown, names), _juki(person), _filings(person, shown, names)
    follow_up = [{"kind": kind, "request_no": r["request_no"], "text": r["discrepancy"]}
                 for kind, rows in (("情報照会", inquiries), ("住基ネット照会", juki)) for r in rows if r["discrepancy"]]
    deletions = _deletions(person)
    file = PersonFile(
        person=person, labels=_labels(person), history=history,
        number=number_state(person, getattr(person, "my_number", None), deleted=bool(deletions)),
        integrated=_integrated(person), filings=filings[:DETAIL_LIMIT],
        non_disclosure=_non_disclosure(person) if shown else None,
        inquiries=inquiries[:DETAIL_LIMIT], juki=juki[:DETAIL_LIMIT], follow_up=follow_up, deletions=deletions,
        truncated=max(len(inquiries), len(juki), len(filings)) > DETAIL_LIMIT, suspension=suspension_of(person.pk),
        applications=_applications(person, shown))
    with transaction.atomic():
        record(AuditEvent.PERSON_VIEW, actor=actor, objects=[person.person_id],
               detail={"number": file.number.state})
    return file
