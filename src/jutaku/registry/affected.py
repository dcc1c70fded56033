"""Who an approval request affects (issue 14 item 8): the persons of a deletion or a business export, paged.

Before deciding a bulk deletion or an export, the approver sees who and what it touches — not only a
count: 個人ID, 氏名 and カナ, the register's 状態 and the reason each person is in it, with the counts by
reason at the top. The same page serves the web (承認依頼の詳細) and the CLI (``jutaku approvals show``).

* A **bulk deletion** affects the persons of its list (:class:`jutaku.retention.models.DeletionTarget`),
  with their 削除理由.
* A **business export** affects the persons with an answered request of its procedure and year, as the
  export would read them if it ran now (:mod:`jutaku.linkage.export`): 連携対象, or 対象外 (X07) for a person
  whose use is suspended — the run decides again when it runs.

Pages are keyset pages over the register's primary key (``after`` / ``before``), each one a range scan of an
index: the deletion list's ``(approval_id, person_id)`` unique index, the register's primary key with the
results' ``person_id`` index for an export; nothing loads the whole list. Reading a page is a sensitive
read: it is audited (``approval:targets``) with the request and the 個人ID shown, and counts — never a name.
No My Number is read here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from jutaku.accounts import approvals
from jutaku.accounts.actor import Actor
from jutaku.accounts.models import Approval
from jutaku.accounts.permissions import Permission
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.formats.layouts import DELETION_REASON, STATUS
from jutaku.registry.models import Person

PAGE_SIZE: Final = 50
PAGE_MAX: Final = 500
ERASED: Final = "削除済み"
EXPORTED: Final = "連携対象"
SUSPENDED: Final = "対象外（利用停止請求 X07）"
_DELETION: Final = "bulk-deletion"  # jutaku.retention.deletion.KIND
_EXPORT: Final = "business-export"  # jutaku.linkage.export.KIND
_ANSWERED: Final = ("00", "01", "02")  # the result codes the export writes


class NotPermitted(PermissionError):
    """The actor may not see the persons of this request (the screens check first; this checks again)."""


@dataclass(frozen=True)
class AffectedRow:
    pk: int
    person_id: str
    name: str
    name_kana: str
    status: str
    reason: str
    erased: bool = False


@dataclass(frozen=True)
class AffectedPage:
    """One page of the persons a request affects. ``after``/``before``: the keys of the next and previous
    pages (None at either end); ``counts``: (reason, persons) over the whole request."""

    approval_id: int
    total: int
    counts: tuple[tuple[str, int], ...]
    rows: tuple[AffectedRow, ...]
    after: int | None
    before: int | None
    note: str = ""

    @property
    def first(self) -> bool:
        return self.before is None

    @property
    def shown_counts(self) -> tuple[tuple[str, str], ...]:
        return tuple((label, f"{n:,}") for label, n in self.counts)

    @property
    def shown_total(self) -> str:
        return f"{self.total:,}"


#: One page of (person pk, reason label) keys in pk order, after/before a key; and the counts by reason.
Keys = Callable[[Approval, int | None, int | None, int], list[tuple[int, str]]]
Counts = Callable[[Approval], list[tuple[str, int]]]


@dataclass(frozen=True)
class _Source:
    keys: Keys
    counts: Counts
    note: str = ""


def _window(qs: QuerySet[object], field: str, after: int | None, before: int | None, size: int) -> QuerySet[object]:
    """``size + 1`` rows after ``after`` (ascending) or before ``before`` (descending, the caller reverses)."""
    if before is not None:
        return qs.filter(**{f"{field}__lt": before}).order_by(f"-{field}")[:size + 1]  # type: ignore[no-any-return]
    if after is not None:
        qs = qs.filter(**{f"{field}__gt": after})
    return qs.order_by(field)[:size + 1]  # type: ignore[no-any-return]


def _deletion_keys(approval: Approval, after: int | None, before: int | None, size: int) -> list[tuple[int, str]]:
    from jutaku.retention.models import DeletionTarget

    qs = DeletionTarget.objects.filter(approval_id=approval.pk).values_list("person_id", "reason")
    return [(int(pk), DELETION_REASON.get(why, why)) for pk, why in _window(qs, "person_id", after, before, size)]


def _deletion_counts(approval: Approval) -> list[tuple[str, int]]:
    from jutaku.retention.models import DeletionTarget

    by = (DeletionTarget.objects.filter(approval_id=approval.pk).values_list("reason")
          .annotate(n=Count("id")).order_by("reason"))
    return [(DELETION_REASON.get(why, why), int(n)) for why, n in by]


def _answered(approval: Approval) -> QuerySet[object]:
    """The export's results (:data:`jutaku.linkage.export._ROWS_SQL`: its procedure and year, answered)."""
    from jutaku.linkage.models import InquiryResult

    return InquiryResult.objects.filter(request__procedure_code=str(approval.payload.get("procedure", "")),
                                        request__fiscal_year=int(approval.payload.get("year", 0)),
                                        result_code__in=_ANSWERED)


def _export_keys(approval: Approval, after: int | None, before: int | None, size: int) -> list[tuple[int, str]]:
    from jutaku.subjects.suspension import suspended_persons

    suspended = suspended_persons()
    qs = Person.objects.filter(Exists(_answered(approval).filter(person_id=OuterRef("pk")))).values_list("pk", flat=True)
    return [(int(pk), SUSPENDED if pk in suspended else EXPORTED) for pk in _window(qs, "pk", after, before, size)]


def _export_counts(approval: Approval) -> list[tuple[str, int]]:
    from jutaku.subjects.suspension import suspended_persons

    answered, suspended = _answered(approval), suspended_persons()

    def persons(qs: QuerySet[object]) -> int:  # COUNT(DISTINCT): a third of a DISTINCT subquery's time on PG
        return int(qs.aggregate(n=Count("person_id", distinct=True))["n"] or 0)

    out = persons(answered.filter(person_id__in=list(suspended))) if suspended else 0
    total = persons(answered)
    return [(label, n) for label, n in ((EXPORTED, total - out), (SUSPENDED, out)) if n]


SOURCES: Final[dict[str, _Source]] = {
    _DELETION: _Source(_deletion_keys, _deletion_counts),
    _EXPORT: _Source(_export_keys, _export_counts,
                     "現時点で連携ファイルに出力される対象者です（出力は実行時の回答・利用停止で確定します）。"),
}


def lists_persons(kind: str) -> bool:
    """Requests of this kind affect a list of persons (shown before deciding)."""
    return kind in SOURCES


def may_see(actor: Actor, approval: Approval) -> bool:
    """Whoever may look at persons and may request or decide this kind (a security_admin, who decides role
    grants and holds no personal-data permission, sees counts only)."""
    spec = approvals.KINDS.get(approval.kind)
    return (approval.kind in SOURCES and spec is not None and actor.can(Permission.PERSONS_VIEW)
            and (actor.can(spec.decide_permission) or actor.can(spec.request_permission)))


def affected(approval_id: int, *, actor: Actor, after: int | None = None, before: int | None = None,
             size: int = PAGE_SIZE) -> AffectedPage | None:
    """One page of the persons request ``approval_id`` affects, or None for a request that lists none.
    Raises :class:`NotPermitted` (:func:`may_see`)."""
    approval = Approval.objects.filter(pk=approval_id).first()
    if approval is None or approval.kind not in SOURCES:
        return None
    if not may_see(actor, approval):
        raise NotPermitted(Permission.PERSONS_VIEW.value)
    source, size = SOURCES[approval.kind], max(1, min(size, PAGE_MAX))
    keys = source.keys(approval, after, before, size)
    more = len(keys) > size
    keys = keys[:size]
    if before is not None:
        keys.reverse()
    rows = _rows(keys)
    counts = tuple(source.counts(approval))
    if not keys:
        newer, older = None, None
    elif before is not None:
        newer, older = keys[-1][0], keys[0][0] if more else None
    else:
        newer, older = (keys[-1][0] if more else None), (keys[0][0] if after is not None else None)
    page = AffectedPage(approval.pk, sum(n for _, n in counts), counts, tuple(rows), newer, older, source.note)
    with transaction.atomic():
        record(AuditEvent.APPROVAL_TARGETS, actor=actor, objects=[f"approval:{approval.pk}", *(r.person_id for r in rows)],
               detail={"kind": approval.kind, "count": len(rows), "total": page.total})
    return page


def _rows(keys: Sequence[tuple[int, str]]) -> list[AffectedRow]:
    found = {pk: (pid, name, kana, st, deleted) for pk, pid, name, kana, st, deleted in Person.objects.filter(
        Q(pk__in=[pk for pk, _ in keys])).values_list("pk", "person_id", "name", "name_kana", "status", "deleted_at")}
    rows = []
    for pk, reason in keys:
        pid, name, kana, st, deleted = found[pk]
        erased = deleted is not None
        rows.append(AffectedRow(pk, pid, ERASED if erased else name, "" if erased else kana, STATUS.get(st, st),
                                reason, erased))
    return rows
