"""The 削除記録 of one approved deletion as a printable report (PDF, the Japanese font embedded).

The same records as the CSV deletion report (:func:`jutaku.retention.deletion.write_report`, a contract
layout) in a form to print and file (ADR 0022): who asked and why, who approved, when it ran, what was
deleted and how, the persons by 削除理由, the day by which the last backup still holding them expires
(ADR 0013), and every 個人ID deleted. No number and no personal content: a deleted person is a shell.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from django.db.models import Count, Max, Min

from jutaku.accounts.actor import Actor
from jutaku.accounts.models import Approval, User
from jutaku.domain.jst import format_time
from jutaku.exchange.documents import write_document
from jutaku.formats.layouts import DELETION_REASON
from jutaku.reports.document import Document, Paragraph, Section, table
from jutaku.retention.models import DeletionRecord

INTERFACE: Final = "deletion-report"
#: 個人ID columns side by side on a page of the person list (a deletion may cover many thousand persons).
PER_ROW: Final = 3


class RecordMissing(LookupError):
    """No deletion was carried out under this approval (message in Japanese)."""


def _jst(moment: datetime | None) -> str:
    return format_time(moment, none="—")


def _who(username: str) -> str:
    """A user by name, with the user name they sign in with (staff accounts only, never a resident)."""
    full = User.objects.filter(username=username).values_list("full_name", flat=True).first()
    return f"{full}（{username}）" if full else username


def _person_rows(approval_id: int) -> Iterator[list[str]]:
    row: list[str] = []
    for ref, reason in (DeletionRecord.objects.filter(approval_id=approval_id).order_by("person_ref")
                        .values_list("person_ref", "reason").iterator(chunk_size=5000)):
        row += [ref, DELETION_REASON.get(reason, reason)]
        if len(row) == 2 * PER_ROW:
            yield row
            row = []
    if row:
        yield row + [""] * (2 * PER_ROW - len(row))


def build_record(approval_id: int, *, now: datetime) -> tuple[Document, int]:
    """The 削除記録 of ``approval_id`` as a document, and how many persons it lists."""
    from jutaku.retention.deletion import backup_notice

    records = DeletionRecord.objects.filter(approval_id=approval_id)
    facts = records.aggregate(first=Min("executed_at"), last=Max("executed_at"), expires=Max("backup_expires_on"))
    head = records.order_by("executed_at", "id").first()
    if head is None:
        raise RecordMissing(f"承認依頼 #{approval_id} の削除記録はありません（一括削除が実行されていません）。")
    approval = Approval.objects.filter(pk=approval_id).first()
    by_reason = Counter(dict(records.order_by().values_list("reason").annotate(n=Count("id")).values_list("reason", "n")))
    persons = sum(by_reason.values())
    numbers = sorted(set(records.values_list("deletion_no", flat=True)))
    ran = _jst(facts["first"]) if facts["first"] == facts["last"] else f"{_jst(facts['first'])} 〜 {_jst(facts['last'])}"
    summary = [
        ["削除番号", "、".join(numbers)],
        ["承認依頼", f"#{approval_id}"],
        ["依頼者", _who(head.requested_by)],
        ["依頼日時", _jst(approval.requested_at) if approval else "—"],
        ["依頼理由", approval.reason if approval else "—"],
        ["承認者", _who(head.approved_by)],
        ["承認日時", _jst(approval.decided_at) if approval else "—"],
        ["実行日時", ran],
        ["削除した対象者", f"{persons:,} 人"],
        ["削除項目", head.items],
        ["方法", head.method],
        ["バックアップ", backup_notice(facts["expires"]).removeprefix("バックアップ: ")],
    ]
    reasons = [[f"{code} {DELETION_REASON.get(code, '不明')}", f"{n:,}"] for code, n in sorted(by_reason.items())]
    title = f"削除記録（承認依頼 #{approval_id}）"
    doc = Document(
        title=title,
        lead=(Paragraph(f"作成日時: {_jst(now)}　都営住宅マイナンバー管理システム。個人番号・団体内統合利用番号その他の"
                        "削除した情報は記載していません（削除した対象者は個人IDのみ）。"),),
        sections=(
            Section("1. 削除の概要", (table(["項目", "内容"], summary, widths=(1, 4)),)),
            Section("2. 削除理由別の人数", (table(["削除理由", "人数"], [*reasons, ["合計", f"{persons:,}"]],
                                             widths=(3, 1), numeric=(1,)),)),
            Section("3. 削除した対象者（個人ID順）", (table(["個人ID", "削除理由"] * PER_ROW, list(_person_rows(approval_id)),
                                                  widths=(1.3, 1.2) * PER_ROW),)),
        ),
        footer=f"{title}　{_jst(now)} 作成",
        subject="一括削除の削除記録")
    return doc, persons


def write_record_pdf(approval_id: int, path: Path, *, actor: Actor) -> tuple[Path, int]:
    """Write the 削除記録 PDF (an output: 0600, media ledger, expiry; plain, as the CSV: it holds 個人ID
    only). Returns the file and how many persons it lists."""
    doc, persons = build_record(approval_id, now=datetime.now(UTC))
    target, _ = write_document(doc, path, fmt="pdf", interface=INTERFACE, actor=actor, records=persons)
    return target, persons
