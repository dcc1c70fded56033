"""The disclosure report (保有個人情報開示書, seed V-1): everything held about one person, in words.

Answers a disclosure request (開示請求) with a self-contained Japanese HTML page or a PDF to print with
the Japanese font embedded — both rendered from the one document :func:`build_report` makes (ADR 0010,
ADR 0022): the register entry; the My Number and the integrated number (last four digits only) with
where they came from and the identity document seen; **the information obtained from other agencies** — every inquiry answer held,
decrypted only into the report, with the information's name, the providing agency, the day obtained, the
result and each item of 結果データ by its label — and the Juki-net identity answers held; every inquiry
and Juki-net query with its dates; the filings; every access to the person's records from the audit
trail, with the operation and its outcome by name; the person's earlier requests; and the deletion
records. Codes are shown by their labels throughout. No full number is ever written (numbers show their
last four digits; 受付番号 and 要求番号 are not numbers of the person).

For a deleted person (a shell, ADR 0013) the report says what the deletion left: the 個人ID and
categories, the 削除記録 with the day the last backup holding the person expires, and the access record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

from django.db import transaction

from jutaku.accounts.actor import Actor
from jutaku.allowlist.names import current
from jutaku.audit.events import AuditEvent
from jutaku.audit.labels import event_label, outcome_label
from jutaku.audit.models import AuditRecord
from jutaku.audit.queries import object_filter
from jutaku.audit.service import record
from jutaku.crypto.envelope import FieldCipher, KeyDestroyed
from jutaku.domain.inquiry import describe
from jutaku.domain.jst import format_day, format_time
from jutaku.domain.juki import LABELS as JUKI_OUTCOMES
from jutaku.domain.my_number import LENGTH as MY_NUMBER_LENGTH
from jutaku.domain.my_number import mask
from jutaku.exchange.documents import FORMATS, write_document
from jutaku.formats.layouts import (
    DELETION_REASON,
    HOUSING,
    INQUIRY_RESULT,
    JUKI_EXISTENCE,
    JUKI_RESULT,
    KUBUN,
    NON_DISCLOSURE,
    REGISTRATION_OUTCOME,
    SEX,
    STATUS,
    ZOKUGARA,
)
from jutaku.juki.models import JukiQuery, JukiResult
from jutaku.juki.results import CIPHER_COLUMN as JUKI_COLUMN
from jutaku.juki.results import CIPHER_TABLE as JUKI_TABLE
from jutaku.linkage.inquiry_results import CIPHER_COLUMN as ANSWER_COLUMN
from jutaku.linkage.inquiry_results import CIPHER_TABLE as ANSWER_TABLE
from jutaku.linkage.models import InquiryRequest, InquiryResult, IntegratedNumber
from jutaku.linkage.results import CIPHER_COLUMN as INTEGRATED_COLUMN
from jutaku.linkage.results import CIPHER_TABLE as INTEGRATED_TABLE
from jutaku.registry.labels import id_document_label
from jutaku.registry.models import Filing, MyNumberRecord, Person, PortalApplication
from jutaku.registry.pipeline import CIPHER_COLUMN, CIPHER_TABLE
from jutaku.reports.document import Document, Paragraph, Section, table
from jutaku.retention.models import DeletionRecord
from jutaku.subjects.models import SubjectRequest
from jutaku.subjects.service import SubjectRequestError

INTERFACE: Final = "disclosure-report"
MAX_ACCESS_ROWS: Final = 2000
TITLE: Final = "保有個人情報開示書（特定個人情報）"
UNREADABLE: Final = "削除済み（復元できません）"
JUKI_ITEMS: Final = ("氏名", "氏名カナ", "生年月日", "性別", "住所", "住民票コード", "異動事由", "異動年月日", "現存区分")


@dataclass(frozen=True)
class Report:
    path: Path
    sha256: str
    accesses: int


class _Names:
    """Names of procedures and information (:mod:`jutaku.allowlist.names`: every allow-list version, the newest
    winning) and the agency that provides each information; a code no list names is said to be unnamed (a
    code means nothing to the person reading the report)."""

    def __init__(self) -> None:
        self._names = current()
        self.providers = self._names.providers

    def procedure(self, code: str) -> str:
        return self._names.procedures.get(code, "（名称未登録の手続）")

    def info(self, code: str) -> str:
        return self._names.information.get(code, "（名称未登録の情報）")


def _jst(moment: datetime | None) -> str:
    return format_time(moment)


def _day(moment: date | datetime | None) -> str:
    return format_day(moment)


def _last_four(digits: str) -> str:
    """Any number of the person (My Number, integrated number, 住民票コード) by its last four digits."""
    return mask(digits) if len(digits) == MY_NUMBER_LENGTH else "*" * max(len(digits) - 4, 0) + digits[-4:]


def _open(cipher: FieldCipher, ref: str, table: str, column: str, token: bytes | None) -> bytes | None:
    """The plaintext of one of the person's tokens, or ``None`` when its data key is destroyed."""
    if token is None:
        return None
    try:
        return cipher.decrypt(ref, table, column, bytes(token))
    except KeyDestroyed:
        return None


def _basic(p: Person) -> list[list[str]]:
    rows = [["個人ID", p.person_id], ["区分", KUBUN.get(p.kind, p.kind)],
            ["住宅区分", HOUSING.get(p.housing_category, p.housing_category)], ["状態", STATUS.get(p.status, p.status)]]
    if p.is_erased:
        return [*rows, ["氏名・氏名カナ・生年月日・性別・住所・世帯・住宅", f"削除済み（{_day(p.deleted_at)} 一括削除）"]]
    return [*rows, ["氏名", p.name], ["氏名カナ", p.name_kana], ["生年月日", _day(p.birth_date)],
            ["性別", SEX.get(p.sex, p.sex)], ["住所", f"〒{p.postal_code} {p.address}" if p.postal_code else p.address],
            ["世帯番号", p.household_no], ["続柄", ZOKUGARA.get(p.relationship, p.relationship)],
            ["住宅コード", p.housing_code or "—"], ["状態日付", _day(p.status_date)],
            ["状態の記録元", Person.StatusSource(p.status_source).label],
            ["情報照会の履歴の不開示", f"設定あり（{_day(p.non_disclosure_since)} から）" if p.non_disclosure else "設定なし"]]


def _numbers(p: Person, cipher: FieldCipher) -> list[list[str]]:
    rec = MyNumberRecord.objects.filter(person=p).first()
    plain = _open(cipher, p.person_id, CIPHER_TABLE, CIPHER_COLUMN, rec.ciphertext if rec else None)
    if rec is None:
        rows = [["個人番号", "保有していません"]]
    elif plain is None:
        rows = [["個人番号", UNREADABLE]]
    else:
        rows = [["個人番号", f"保有しています（{_last_four(plain.decode('ascii'))}）"],
                ["取得元", rec.get_source_display()], ["受付番号", rec.receipt_no or "—"],
                ["本人確認書類・方法", id_document_label(rec.source, rec.id_document)], ["受付日", _day(rec.received_date)],
                ["登録日時", _jst(rec.registered_at)]]
    integrated = IntegratedNumber.objects.filter(person=p).first()
    plain = _open(cipher, p.person_id, INTEGRATED_TABLE, INTEGRATED_COLUMN, integrated.ciphertext if integrated else None)
    if integrated is None:
        return [*rows, ["団体内統合利用番号", "保有していません"]]
    shown = UNREADABLE if plain is None else f"保有しています（{_last_four(plain.decode('ascii'))}）"
    return [*rows, ["団体内統合利用番号", shown], ["取得元", "団体内統合利用番号連携サーバ"], ["取得日", _day(integrated.linked_at)]]


def _answers(p: Person, cipher: FieldCipher, names: _Names) -> list[list[str]]:
    """Each inquiry answer held: information, providing agency, day obtained, result and its items."""
    rows = []
    for r in (InquiryResult.objects.filter(person=p).select_related("request").order_by("received_at", "id")):
        plain = _open(cipher, p.person_id, ANSWER_TABLE, ANSWER_COLUMN, r.data)
        if r.data is None:
            content = f"未設定事由: {r.unset_reason}" if r.unset_reason else "—"
        elif plain is None:
            content = UNREADABLE
        else:
            content = "、".join(f"{k}: {v}" for k, v in describe(r.info_code, json.loads(plain)))
        rows.append([names.info(r.info_code), names.providers.get(r.info_code, "—"), _day(r.received_at),
                     INQUIRY_RESULT.get(r.result_code, r.result_code), content,
                     f"{names.procedure(r.request.procedure_code)}（{r.request.fiscal_year}年度）"])
    return rows


def _identity(d: dict[str, str]) -> str:
    """A Juki-net identity answer in words, in the order of the layout (住民票コード: last four digits)."""
    shown = {**d, "性別": SEX.get(d.get("性別", ""), d.get("性別", "")), "住民票コード": _last_four(d.get("住民票コード", "")),
             "現存区分": JUKI_EXISTENCE.get(d.get("現存区分", ""), d.get("現存区分", ""))}
    for day in ("生年月日", "異動年月日"):
        value = shown.get(day, "")
        shown[day] = f"{value[:4]}-{value[4:6]}-{value[6:]}" if len(value) == 8 and value.isascii() and value.isdigit() else value
    return "、".join(f"{k}: {shown[k]}" for k in JUKI_ITEMS if shown.get(k))


def _juki_answers(p: Person, cipher: FieldCipher) -> list[list[str]]:
    """Each Juki-net identity answer held."""
    rows = []
    for r in JukiResult.objects.filter(person=p).order_by("received_at", "id"):
        plain = _open(cipher, p.person_id, JUKI_TABLE, JUKI_COLUMN, r.data)
        content = (UNREADABLE if r.data is not None else "—") if plain is None else _identity(json.loads(plain))
        rows.append(["地方公共団体情報システム機構（住基ネット）", _day(r.received_at),
                     JUKI_RESULT.get(r.result_code, r.result_code), JUKI_OUTCOMES.get(r.outcome, r.outcome), content])
    return rows


def _requests(p: Person, names: _Names) -> tuple[list[list[str]], list[list[str]]]:
    inquiries = [[q.request_no, names.procedure(q.procedure_code), names.info(q.info_code), f"{q.fiscal_year}年度",
                  q.progress_label(), _jst(q.dispatch.sent_at), _jst(q.answered_at),
                  INQUIRY_RESULT.get(getattr(getattr(q, "result", None), "result_code", ""), "—"),
                  NON_DISCLOSURE.get(q.non_disclosure, q.non_disclosure)]
                 for q in InquiryRequest.objects.filter(person=p).select_related("result", "dispatch").order_by("id")]
    juki = [[q.query_no, f"{q.fiscal_year}年度", q.progress_label(), _jst(q.dispatch.sent_at), _jst(q.answered_at),
             JUKI_OUTCOMES.get(getattr(getattr(q, "result", None), "outcome", ""), "—")]
            for q in JukiQuery.objects.filter(person=p).select_related("result", "dispatch").order_by("id")]
    return inquiries, juki


def _filings(p: Person, names: _Names) -> list[list[str]]:
    return [[f.receipt_no, names.procedure(f.procedure_code), f"{f.fiscal_year}年度", _day(f.received_date),
             "あり" if f.consent else "なし", "あり" if f.non_disclosure_wish else "なし"]
            for f in Filing.objects.filter(person=p).order_by("received_date", "id")]


def _applications(p: Person) -> list[list[str]]:
    """Mynaportal applications (個人番号届出) and what they stated (ADR 0016)."""
    stated = {True: "あり", False: "なし", None: "記載なし"}
    return [[a.receipt_no, _jst(a.received_at), stated[a.consent], stated[a.non_disclosure_wish],
             REGISTRATION_OUTCOME.get(a.outcome, a.outcome)]
            for a in PortalApplication.objects.filter(person=p).order_by("received_at", "id")]


def _deletions(p: Person) -> list[list[str]]:
    return [[d.deletion_no, _jst(d.executed_at), DELETION_REASON.get(d.reason, d.reason), d.items, d.method,
             _day(d.backup_expires_on) + " まで" if d.backup_expires_on else "バックアップなし"]
            for d in DeletionRecord.objects.filter(person=p).order_by("executed_at", "id")]


def _accesses(pid: str) -> list[list[str]]:
    return [[_jst(a.at), a.username, a.terminal, event_label(a.event), outcome_label(a.event, a.outcome)]
            for a in AuditRecord.objects.filter(object_filter(pid)).order_by("seq")[:MAX_ACCESS_ROWS]]


def _left_after_deletion(p: Person) -> Section | None:
    """For a deleted person: what the deletion left, and until when a backup may still hold the rest."""
    if not p.is_erased:
        return None
    expiry = (DeletionRecord.objects.filter(person=p).order_by("-executed_at", "-id")
              .values_list("backup_expires_on", flat=True).first())
    backups = ("削除の時点でこれらの情報を含むバックアップはありませんでした。" if expiry is None else
               f"削除前に作成したバックアップには削除した情報が残っており、{_day(expiry)} までに保管期限切れで削除されます。"
               "それまでにバックアップから復元しても、削除は再適用されます。")
    return Section("削除後に保有している情報", (Paragraph(
        "一括削除により、個人番号、団体内統合利用番号、他機関から取得した情報、"
        "照会の記録、手続、氏名・生年月日・性別・住所等の登録情報は削除しました。保有しているのは、個人ID・区分・住宅区分・状態、"
        "削除記録、開示等の請求の記録（メモを除く）、操作の記録（7年間保存、個人IDのみで記録）だけです。" + backups),))


def build_report(person: Person, *, now: datetime) -> tuple[Document, int]:
    """The disclosure report as a document (every renderer reads it) and how many access records it lists."""
    cipher, names = FieldCipher(), _Names()
    inquiries, juki = _requests(person, names)
    deletions, accesses = _deletions(person), _accesses(person.person_id)
    requests = [[f"#{r.pk}", r.get_kind_display(), _day(r.received_on), r.get_state_display(), _jst(r.handled_at)]
                for r in SubjectRequest.objects.filter(person=person).order_by("id")]
    held = "保有している回答はありません。"
    sections = [
        ("1. 本人に関する情報", table(["項目", "内容"], _basic(person), widths=(1, 3))),
        ("2. 保有する特定個人情報とその取得元", table(["項目", "内容"], _numbers(person, cipher), widths=(1, 3))),
        ("3. 他機関から取得した情報（情報照会の回答）", table(
            ["特定個人情報", "提供元", "取得日", "結果", "内容", "事務手続"], _answers(person, cipher, names),
            widths=(2, 2, 1.3, 1.2, 4, 2), empty=held)),
        ("4. 住基ネットから取得した本人確認情報", table(
            ["提供元", "取得日", "処理結果", "照合結果", "内容"], _juki_answers(person, cipher), widths=(2, 1.3, 1.2, 1.2, 5),
            empty=held)),
        ("5. 手続（届出）の記録", table(["受付番号", "手続", "年度", "受付日", "照会への同意", "不開示の希望"],
                                  _filings(person, names))),
        ("5-2. マイナポータルからの個人番号届出", table(["受付番号", "受付日時", "照会への同意", "不開示の希望", "結果"],
                                              _applications(person))),
        ("6. 情報照会の記録", table(["要求番号", "事務手続", "特定個人情報", "年度", "状態", "送付", "回答", "結果",
                                 "不開示"], inquiries)),
        ("7. 住基ネット照会の記録", table(["照会番号", "年度", "状態", "送付", "回答", "結果"], juki)),
        ("8. アクセス記録（操作の記録）", table(["日時", "利用者", "端末", "操作", "結果"], accesses,
                                        widths=(1.4, 1.2, 1.2, 2.6, 1.2))),
        ("9. 開示・訂正・利用停止請求の記録", table(["請求", "種類", "受付日", "状態", "対応日時"], requests)),
        ("10. 削除記録", table(["削除番号", "実行日時", "削除理由", "削除項目", "方法", "バックアップの保管期限"], deletions,
                           widths=(1.3, 1.3, 1.2, 4, 2.5, 1.8))),
    ]
    left = _left_after_deletion(person)
    doc = Document(
        title=TITLE,
        lead=(Paragraph(f"作成日時: {_jst(now)}　都営住宅マイナンバー管理システム。番号は下4桁のみ表示しています。"
                        "他機関から取得した情報は、この開示書のためにのみ復号しています。"),),
        sections=(*((left,) if left else ()), *(Section(title, (block,)) for title, block in sections)),
        footer=f"{TITLE}　個人ID {person.person_id}　{_jst(now)} 作成",
        subject="保有個人情報開示請求に対する開示書")
    return doc, len(accesses)


def render_report(person: Person, *, now: datetime) -> tuple[str, int]:
    """The disclosure report (HTML, Japanese) and how many access records it lists."""
    from jutaku.reports import html

    doc, accesses = build_report(person, now=now)
    return html.render(doc), accesses


def disclose(request_id: int, out: Path, *, actor: Actor, plain: bool = False, fmt: str = "html") -> Report:
    """Write the disclosure report of a disclosure request (0600, media ledger, expiry, audited). It holds
    the answers obtained from other agencies — specific personal information — so it is written encrypted
    (``out.enc``) unless ``plain`` is asked for to print it for the person (audited as ``media:plain``).
    ``fmt``: ``html`` (a page) or ``pdf`` (to print, the Japanese font embedded): the same document."""
    request = SubjectRequest.objects.select_related("person").filter(pk=request_id).first()
    if request is None or request.kind != SubjectRequest.Kind.DISCLOSURE:
        raise SubjectRequestError(f"請求 #{request_id} は開示請求ではありません")
    if fmt not in FORMATS:
        raise SubjectRequestError(f"開示書の形式は {'・'.join(FORMATS)} のいずれかです")
    doc, accesses = build_report(request.person, now=datetime.now(UTC))
    target, entry = write_document(doc, out, fmt=fmt, interface=INTERFACE, actor=actor, records=1, recipient="本人",
                                   plain=plain)
    with transaction.atomic():
        record(AuditEvent.SUBJECT_DISCLOSE, actor=actor,
               objects=[request.person.person_id, f"subject-request:{request.pk}"], detail={"accesses": accesses})
    return Report(target, entry.sha256, accesses)
