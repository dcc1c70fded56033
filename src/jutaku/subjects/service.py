"""Disclosure, correction and use-suspension requests (開示・訂正・利用停止請求, issue 6 item 4).

Every request is recorded when received and closed when handled (both audited). A disclosure request
is answered with a Japanese HTML report of what is held about the person — the register entry, the
number (masked to its last four digits) and where it came from, the integrated number (masked), every
inquiry and Juki-net query with dates and information codes, and who accessed the person's records
(from the audit trail). A handled use-suspension request stops every use of the person's data at once
and makes the person a deletion candidate (理由 4, :mod:`jutaku.retention.deletion`) until it is lifted
under dual control or the data are deleted (:mod:`jutaku.subjects.suspension`); a correction is carried out through `jutaku numbers change`
(supervisor, reason, audited). Notes and reports never hold a full number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Final

from django.db import transaction

from jutaku.accounts.actor import Actor
from jutaku.allowlist.models import AllowRule
from jutaku.audit import guard
from jutaku.audit.events import AuditEvent
from jutaku.audit.models import AuditRecord
from jutaku.audit.queries import JST, object_filter
from jutaku.audit.service import record
from jutaku.crypto.envelope import FieldCipher, KeyDestroyed
from jutaku.domain.my_number import mask
from jutaku.exchange.outbound import write_output
from jutaku.formats.layouts import HOUSING, STATUS
from jutaku.juki.models import JukiQuery
from jutaku.linkage.models import InquiryRequest, IntegratedNumber
from jutaku.linkage.results import CIPHER_COLUMN as INTEGRATED_COLUMN
from jutaku.linkage.results import CIPHER_TABLE as INTEGRATED_TABLE
from jutaku.registry.models import MyNumberRecord, Person
from jutaku.registry.pipeline import CIPHER_COLUMN, CIPHER_TABLE
from jutaku.retention.models import DeletionRecord
from jutaku.subjects.models import SubjectRequest

INTERFACE: Final = "disclosure-report"
MAX_ACCESS_ROWS: Final = 2000
SEX: Final = {"0": "不明", "1": "男", "2": "女", "9": "適用不能"}


class SubjectRequestError(ValueError):
    """The request cannot be recorded or handled as asked."""


@dataclass(frozen=True)
class Report:
    path: Path
    sha256: str
    accesses: int


def _clean_note(note: str) -> str:
    if guard.contains_my_number(note):
        raise SubjectRequestError("メモに個人番号を書かないでください")
    return note.strip()[:400]


def record_request(person_id: str, kind: str, *, received_on: date, actor: Actor, note: str = "") -> SubjectRequest:
    person = Person.objects.filter(person_id=person_id).first()
    if person is None:
        raise SubjectRequestError("個人IDが登録されていません")
    if kind not in SubjectRequest.Kind.values:
        raise SubjectRequestError(f"請求の種類は {', '.join(SubjectRequest.Kind.values)} のいずれかです")
    with transaction.atomic():
        request = SubjectRequest.objects.create(person=person, kind=kind, received_on=received_on,
                                                received_by=actor.username, note=_clean_note(note))
        record(AuditEvent.SUBJECT_REQUEST, actor=actor, objects=[person_id, f"subject-request:{request.pk}"],
               outcome=kind)
    return request


def handle(request_id: int, *, actor: Actor, refuse: bool = False, note: str = "") -> SubjectRequest:
    with transaction.atomic():
        request = SubjectRequest.objects.select_for_update().select_related("person").filter(pk=request_id).first()
        if request is None:
            raise SubjectRequestError(f"請求 #{request_id} はありません")
        if request.state != SubjectRequest.State.RECEIVED:
            raise SubjectRequestError(f"請求 #{request_id} は処理済みです")
        request.state = SubjectRequest.State.REFUSED if refuse else SubjectRequest.State.HANDLED
        request.handled_by, request.handled_at = actor.username, datetime.now(UTC)
        if note:
            request.note = _clean_note(f"{request.note} / {note}" if request.note else note)
        request.save()
        record(AuditEvent.SUBJECT_HANDLE, actor=actor,
               objects=[request.person.person_id, f"subject-request:{request.pk}"], outcome=request.state)
    return request


def _jst(moment: datetime | None) -> str:
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "<p>記録はありません。</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _masked(table: str, column: str, person_ref: str, token: bytes | None) -> str:
    if token is None:
        return "保有していません"
    try:
        plain = FieldCipher().decrypt(person_ref, table, column, bytes(token)).decode("ascii")
    except KeyDestroyed:
        return "削除済み（復元できません）"
    return f"保有しています（{mask(plain) if len(plain) == 12 else '*' * (len(plain) - 4) + plain[-4:]}）"


def render_report(person: Person, *, now: datetime) -> tuple[str, int]:
    """The disclosure report (HTML, Japanese) and how many access records it lists."""
    pid = person.person_id
    number = MyNumberRecord.objects.filter(person=person).first()
    integrated = IntegratedNumber.objects.filter(person=person).first()
    deletions = list(DeletionRecord.objects.filter(person=person).order_by("executed_at"))
    names = dict(AllowRule.objects.filter(version__active=True).values_list("info_code", "info_name"))
    inquiries = [[q.request_no, q.procedure_code, f"{q.info_code} {names.get(q.info_code, '')}", str(q.fiscal_year),
                  q.progress_label(), _jst(q.dispatch.sent_at), _jst(q.answered_at),
                  getattr(getattr(q, "result", None), "result_code", "") or "—",
                  "不開示" if q.non_disclosure == "2" else "通常"]
                 for q in InquiryRequest.objects.filter(person=person).select_related("result", "dispatch").order_by("id")]
    juki = [[q.query_no, q.progress_label(), _jst(q.dispatch.sent_at), _jst(q.answered_at),
             getattr(getattr(q, "result", None), "outcome", "") or "—"]
            for q in JukiQuery.objects.filter(person=person).select_related("result", "dispatch").order_by("id")]
    accesses = list(AuditRecord.objects.filter(object_filter(pid)).order_by("seq")[:MAX_ACCESS_ROWS])
    access_rows = [[_jst(a.at), a.username, a.terminal, a.event, a.outcome] for a in accesses]
    requests = [[f"#{r.pk}", r.get_kind_display(), r.received_on.isoformat(), r.get_state_display(), _jst(r.handled_at)]
                for r in SubjectRequest.objects.filter(person=person).order_by("id")]
    basic = [["個人ID", pid], ["氏名", person.name], ["氏名カナ", person.name_kana],
             ["生年月日", person.birth_date.isoformat()], ["性別", SEX.get(person.sex, person.sex)],
             ["住所", person.address], ["住宅区分", HOUSING.get(person.housing_category, "")],
             ["状態", STATUS.get(person.status, person.status)]]
    held = [["個人番号", _masked(CIPHER_TABLE, CIPHER_COLUMN, pid, number.ciphertext if number else None)]]
    if number is not None:
        held += [["取得元", number.get_source_display()], ["受付番号", number.receipt_no],
                 ["本人確認書類・方法", number.id_document], ["受付日", str(number.received_date or "—")],
                 ["登録日時", _jst(number.registered_at)]]
    held.append(["団体内統合利用番号", _masked(INTEGRATED_TABLE, INTEGRATED_COLUMN, pid,
                                       integrated.ciphertext if integrated else None)])
    held += [["削除記録", f"{d.deletion_no} {_jst(d.executed_at)} {d.items}（{d.method}）"] for d in deletions]
    html = f"""<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>保有個人情報開示書（特定個人情報）</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin-bottom:1.5em}}
td,th{{border:1px solid #999;padding:.3em .6em;text-align:left}}th{{background:#eee}}</style></head><body>
<h1>保有個人情報開示書（特定個人情報）</h1>
<p>作成日時: {escape(_jst(now))}　都営住宅マイナンバー管理システム。番号は下4桁のみ表示しています。</p>
<h2>1. 本人に関する情報</h2>{_table(["項目", "内容"], basic)}
<h2>2. 保有する特定個人情報とその取得元</h2>{_table(["項目", "内容"], held)}
<h2>3. 情報照会の記録</h2>{_table(["要求番号", "事務手続", "特定個人情報", "年度", "状態", "送付", "回答", "結果", "不開示コード"], inquiries)}
<h2>4. 住基ネット照会の記録</h2>{_table(["照会番号", "状態", "送付", "回答", "結果"], juki)}
<h2>5. アクセス記録（操作ログ）</h2>{_table(["日時", "利用者", "端末", "操作", "結果"], access_rows)}
<h2>6. 開示・訂正・利用停止請求の記録</h2>{_table(["請求", "種類", "受付日", "状態", "対応日時"], requests)}
</body></html>
"""
    return html, len(accesses)


def disclose(request_id: int, out: Path, *, actor: Actor) -> Report:
    """Write the disclosure report of a disclosure request (0600, media ledger, retention, audited). It is
    printed and handed to the person (recipient 本人): personal, not specific personal information (no full
    number, no answer values; :mod:`jutaku.domain.media`), so it is written plain."""
    request = SubjectRequest.objects.select_related("person").filter(pk=request_id).first()
    if request is None or request.kind != SubjectRequest.Kind.DISCLOSURE:
        raise SubjectRequestError(f"請求 #{request_id} は開示請求ではありません")
    html, accesses = render_report(request.person, now=datetime.now(UTC))
    data = html.encode("utf-8")
    entry = write_output(out, data, interface=INTERFACE, actor=actor, records=1, recipient="本人")
    with transaction.atomic():
        record(AuditEvent.SUBJECT_DISCLOSE, actor=actor,
               objects=[request.person.person_id, f"subject-request:{request.pk}"], detail={"accesses": accesses})
    return Report(out, entry.sha256, accesses)
