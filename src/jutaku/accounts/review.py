"""The annual access review (AUTH-10; PIA: IDs and rights reviewed at least once a year).

One row per account: user × organisation × roles × last sign-in × end date, with flags for accounts
idle more than ``JUTAKU_REVIEW_IDLE_DAYS`` (90), past their end date, and contractor accounts. Written
as a staff-facing CSV (formula cells escaped by :func:`jutaku.formats.csvio.write_csv`) and a Japanese
report with a reviewer sign-off box: an HTML page, or a PDF to print with the Japanese font embedded (ADR
0022), both from the same rows. Audited (ACCESS_REVIEW).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from jutaku.accounts.actor import Actor
from jutaku.accounts.errors import require
from jutaku.accounts.models import CONTRACTORS, User
from jutaku.accounts.permissions import ROLE_LABELS, Permission, Role
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.domain.jst import format_day, format_time
from jutaku.formats.layouts import Column, Layout
from jutaku.reports.document import Document, Paragraph, Section, SignOff
from jutaku.reports.document import table as document_table

TITLE = "アクセス権限確認（年次）"

REVIEW = Layout(
    "access-review", "アクセス権限確認", "export",
    tuple(Column(name, "text", required=False) for name in (
        "利用者", "氏名", "所属", "委託先", "役割", "最終サインイン", "開始日", "終了日", "状態", "要確認")),
    staff_facing=True, description="Staff accounts only; never contains resident data.",
)


@dataclass(frozen=True)
class ReviewResult:
    rows: int
    flagged: int
    csv_path: Path
    report_path: Path

    @property
    def html_path(self) -> Path:  # the report's path, whatever its format (the name it always had)
        return self.report_path


def flags(user: User, now: datetime) -> list[str]:
    """Why the reviewer should look at this account (empty: nothing special)."""
    out = []
    today = timezone.localdate(now)
    idle_since = user.last_login or user.created_at
    if not user.disabled and now - idle_since > timedelta(days=settings.JUTAKU_REVIEW_IDLE_DAYS):
        out.append(f"{settings.JUTAKU_REVIEW_IDLE_DAYS}日超未使用")
    if today > user.end_date:
        out.append("終了日経過")
    if user.organisation in CONTRACTORS:
        out.append("委託先")
    if user.locked_at is not None:
        out.append("ロック中")
    return out


def rows(now: datetime) -> list[dict[str, str]]:
    result = []
    for user in User.objects.prefetch_related("role_grants").order_by("organisation", "username"):
        last = format_time(user.last_login, none="なし")
        result.append({
            "利用者": user.username, "氏名": user.full_name, "所属": user.get_organisation_display(),
            "委託先": "はい" if user.organisation in CONTRACTORS else "いいえ",
            "役割": "・".join(ROLE_LABELS[Role(r)] for r in user.roles),
            "最終サインイン": last, "開始日": format_day(user.start_date), "終了日": format_day(user.end_date),
            "状態": "無効" if user.disabled else "有効", "要確認": "・".join(flags(user, now)),
        })
    return result


def review_table(*, actor: Actor, now: datetime | None = None) -> list[dict[str, str]]:
    """The review's rows for a screen; showing every account and its rights is itself recorded
    (ACCESS_REVIEW, outcome ``viewed``)."""
    require(actor, Permission.ACCESS_REVIEW)
    table = rows(now or timezone.now())
    with transaction.atomic():
        record(AuditEvent.ACCESS_REVIEW, actor=actor, outcome="viewed",
               detail={"rows": len(table), "flagged": sum(1 for r in table if r["要確認"])})
    return table


def review_document(table: list[dict[str, str]], *, now: datetime, generated_by: str) -> Document:
    """The printable review (PDF): the same rows, facts and sign-off box as the HTML report."""
    flagged = [n for n, r in enumerate(table) if r["要確認"]]
    at = format_time(now)
    return Document(
        title=TITLE,
        lead=(Paragraph(f"作成日時: {at}　作成者: {generated_by}　件数: {len(table)}（要確認 {len(flagged)} 件）"),
              Paragraph("全ての利用者IDと役割を確認し、不要な権限は削除してください。要確認: "
                        f"{settings.JUTAKU_REVIEW_IDLE_DAYS}日超未使用・終了日経過・委託先・ロック中。")),
        sections=(Section("利用者と役割", (
            document_table(REVIEW.header, [list(r.values()) for r in table], flagged=flagged,
                           widths=(1.3, 1.2, 1.3, 0.8, 2, 1.4, 1, 1, 0.7, 1.6), empty="利用者はいません。"),
            SignOff(("確認者（所属・氏名）:", "確認日: 　　年　　月　　日　　印")))),),
        landscape=True, footer=f"{TITLE}　{at} 作成", subject="利用者IDと権限の年次確認")


def write_review(csv_path: Path, report_path: Path, *, actor: Actor, now: datetime | None = None,
                 fmt: str = "html") -> ReviewResult:
    """The CSV and the report (``fmt``: ``html`` or ``pdf``) of the review, audited."""
    require(actor, Permission.ACCESS_REVIEW)
    now = now or timezone.now()
    table = rows(now)
    from jutaku.exchange.outbound import write_export, write_output

    if fmt == "pdf":  # rendered before anything is written: a missing font leaves no half-made review
        from jutaku.exchange.documents import render

        report = render(review_document(table, now=now, generated_by=actor.username), "pdf")
    _, info = write_export(csv_path, REVIEW, table, actor=actor, manifest=False)
    if fmt == "pdf":
        write_output(report_path, report, interface=REVIEW.name, actor=actor, records=len(table))
    else:
        html = render_to_string("accounts/review.html", {
            "rows": table, "header": REVIEW.header, "generated_at": format_time(now),
            "generated_by": actor.username, "idle_days": settings.JUTAKU_REVIEW_IDLE_DAYS,
            "flagged": sum(1 for r in table if r["要確認"]),
        })
        write_output(report_path, html.encode("utf-8"), interface=REVIEW.name, actor=actor, records=len(table))
    flagged = sum(1 for r in table if r["要確認"])
    with transaction.atomic():
        record(AuditEvent.ACCESS_REVIEW, actor=actor, objects=[f"sha256:{info.sha256[:32]}"],
               detail={"rows": len(table), "flagged": flagged})
    return ReviewResult(rows=len(table), flagged=flagged, csv_path=csv_path, report_path=report_path)
