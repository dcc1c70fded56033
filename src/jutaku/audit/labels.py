"""Japanese names of audit events and their outcomes, for what a person or a reviewer reads (seed V-1).

The trail stores codes (:class:`jutaku.audit.events.AuditEvent`, outcome codes); a disclosure report or
a screen shows these labels instead. Every event has a label and belongs to one area of the audit screen's
filter (:data:`EVENT_AREAS`; unit tests keep both so); an outcome without a known label is shown as it is
stored. A record's detail (JSON) is shown as label/value pairs (:func:`detail_items`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from jutaku.audit.events import AuditEvent as E
from jutaku.domain.inquiry import OUTCOME_LABELS as INQUIRY_OUTCOMES
from jutaku.domain.jobs import KIND_LABELS as JOB_KINDS
from jutaku.domain.juki import LABELS as JUKI_OUTCOMES
from jutaku.domain.linkage import LABELS as LINKAGE_OUTCOMES
from jutaku.formats.errors import FILE_CODES
from jutaku.formats.layouts import DELETION_REASON, REGISTRATION_OUTCOME

EVENT_LABELS: Final[Mapping[str, str]] = {
    E.SYSTEM_INIT: "システムの初期設定", E.KEYS_INIT: "鍵の作成", E.KEYS_ROTATE: "鍵の更新",
    E.KEYS_RETIRE: "旧鍵の廃止", E.KEYS_SHRED: "データ鍵の暗号消去",
    E.JOB_START: "一括処理の開始", E.JOB_CHUNK: "一括処理の進行", E.JOB_RESUME: "一括処理の再開",
    E.JOB_FINISH: "一括処理の終了", E.JOB_FAIL: "一括処理の失敗", E.JOB_REFUSE: "一括処理の拒否",
    E.MEDIA_WRITE: "外部記録媒体への書出し", E.MEDIA_READ: "外部記録媒体からの読込み",
    E.PERSON_IMPORT: "対象者・手続の取込み", E.PERSON_REJECT: "取込みの差戻し",
    E.NUMBER_STORE: "個人番号の登録", E.NUMBER_READ: "個人番号の参照", E.NUMBER_SEARCH: "個人番号による検索",
    E.NUMBER_CHANGE: "個人番号の変更", E.ALLOWLIST_LOAD: "情報連携許可リストの読込み",
    E.LINKAGE_REQUEST: "団体内統合利用番号の取得要求", E.LINKAGE_STORE: "団体内統合利用番号の登録",
    E.LINKAGE_REJECT: "団体内統合利用番号の取得結果の差戻し",
    E.INQUIRY_REQUEST: "情報照会の要求", E.INQUIRY_STORE: "情報照会結果の取込み",
    E.INQUIRY_REJECT: "情報照会結果の差戻し", E.INQUIRY_REFUSE: "情報照会の拒否（許可リスト外）",
    E.EXPORT_BUSINESS: "業務システムへの連携", E.JUKI_REQUEST: "住基ネット照会の要求",
    E.JUKI_STORE: "住基ネット照会結果の取込み", E.JUKI_REJECT: "住基ネット照会結果の差戻し",
    E.PERSON_DECEASED: "死亡の記録", E.NUMBER_DELETE: "個人番号等の削除", E.STATS_VIEW: "統計の閲覧",
    E.SUBJECT_REQUEST: "開示・訂正・利用停止請求の受付", E.SUBJECT_HANDLE: "開示・訂正・利用停止請求の対応",
    E.SUBJECT_DISCLOSE: "保有個人情報開示書の作成", E.BACKUP_RUN: "バックアップ", E.RESTORE_RUN: "リストア",
    E.BACKUP_PRUNE: "保管期限切れバックアップの削除",
    E.AUDIT_VERIFY: "操作記録の検証", E.AUDIT_SEARCH: "操作記録の検索", E.AUDIT_CHECKPOINT: "操作記録の確認点",
    E.SIM_WORLD: "模擬データの作成", E.DEMO_RUN: "デモの実行", E.ACCESS_DENIED: "アクセスの拒否",
    E.AUTH_LOGIN: "ログイン", E.AUTH_LOGIN_FAILED: "ログインの失敗", E.AUTH_LOCKED: "アカウントのロック",
    E.AUTH_UNLOCK: "ロックの解除", E.AUTH_LOGOUT: "ログアウト", E.AUTH_SESSION_END: "セッションの終了", E.AUTH_SESSION_REFUSED: "セッションの拒否（発行時と異なる利用者・端末）",
    E.USER_CREATE: "利用者の登録", E.USER_DISABLE: "利用者の停止", E.USER_ENABLE: "利用者の再開",
    E.USER_ROLES: "利用者の権限変更", E.USER_MFA_RESET: "多要素認証の再設定",
    E.TERMINAL_ADD: "端末の登録", E.TERMINAL_REMOVE: "端末の削除",
    E.APPROVAL_REQUEST: "承認依頼", E.APPROVAL_APPROVE: "承認", E.APPROVAL_REJECT: "却下",
    E.APPROVAL_EXECUTE: "承認済み処理の実行", E.APPROVAL_TARGETS: "承認依頼の対象者の閲覧", E.ACCESS_REVIEW: "利用者・権限の点検",
    E.AUTH_STEP_UP: "再認証", E.PERSON_SEARCH: "対象者の検索", E.PERSON_VIEW: "対象者詳細の閲覧",
    E.NUMBER_UNMASK: "個人番号の全桁表示", E.TASK_SUBMIT: "処理の依頼", E.FILE_DOWNLOAD: "ファイルのダウンロード",
    E.FILE_EXPIRE: "ファイルの期限切れ削除", E.AUDIT_EXPORT: "操作記録の書出し",
    E.MEDIA_PLAIN: "暗号化しない書出し（本人の指示）", E.MEDIA_HANDOVER: "外部記録媒体の引渡し",
    E.MEDIA_ERASE: "外部記録媒体からの消去の確認", E.OUTPUT_PURGE: "保管期限切れファイルの削除",
    E.PERSON_STATUS_CORRECT: "状態の訂正", E.NON_DISCLOSURE_SET: "不開示の設定", E.NON_DISCLOSURE_CLEAR: "不開示の解除",
    E.CONSENT_RECORD: "照会同意の記録", E.SUBJECT_LIFT: "利用停止の解除",
    E.AUDIT_ANCHOR_KEY: "操作記録の署名鍵の作成", E.INSTALL_OPEN: "設置期間の開始", E.INSTALL_GRANT: "設置期間中の権限付与", E.INSTALL_CLOSE: "設置期間の終了",
    E.USER_PASSWORD_RESET: "パスワードの再設定（セキュリティ管理者）", E.AUTH_PASSWORD_CHANGE: "パスワードの変更（本人）",
}

#: The areas of the audit screen's event filter (<optgroup>), in the order shown; every event in exactly one.
EVENT_AREAS: Final[tuple[tuple[str, tuple[E, ...]], ...]] = (
    ("個人番号", (E.NUMBER_STORE, E.NUMBER_READ, E.NUMBER_SEARCH, E.NUMBER_UNMASK, E.NUMBER_CHANGE)),
    ("対象者", (E.PERSON_IMPORT, E.PERSON_REJECT, E.PERSON_SEARCH, E.PERSON_VIEW, E.PERSON_DECEASED,
             E.PERSON_STATUS_CORRECT, E.NON_DISCLOSURE_SET, E.NON_DISCLOSURE_CLEAR, E.CONSENT_RECORD)),
    ("情報照会・連携", (E.ALLOWLIST_LOAD, E.LINKAGE_REQUEST, E.LINKAGE_STORE, E.LINKAGE_REJECT, E.INQUIRY_REQUEST,
                 E.INQUIRY_STORE, E.INQUIRY_REJECT, E.INQUIRY_REFUSE, E.EXPORT_BUSINESS)),
    ("住基ネット", (E.JUKI_REQUEST, E.JUKI_STORE, E.JUKI_REJECT)),
    ("開示請求", (E.SUBJECT_REQUEST, E.SUBJECT_HANDLE, E.SUBJECT_DISCLOSE, E.SUBJECT_LIFT)),
    ("削除・バックアップ", (E.NUMBER_DELETE, E.KEYS_SHRED, E.BACKUP_RUN, E.BACKUP_PRUNE, E.RESTORE_RUN)),
    ("ファイル・媒体", (E.MEDIA_READ, E.MEDIA_WRITE, E.MEDIA_PLAIN, E.MEDIA_HANDOVER, E.MEDIA_ERASE,
                 E.FILE_DOWNLOAD, E.FILE_EXPIRE, E.OUTPUT_PURGE)),
    ("一括処理", (E.JOB_START, E.JOB_CHUNK, E.JOB_RESUME, E.JOB_FINISH, E.JOB_FAIL, E.JOB_REFUSE, E.TASK_SUBMIT)),
    ("承認", (E.APPROVAL_REQUEST, E.APPROVAL_APPROVE, E.APPROVAL_REJECT, E.APPROVAL_EXECUTE, E.APPROVAL_TARGETS)),
    ("利用者・端末", (E.USER_CREATE, E.USER_DISABLE, E.USER_ENABLE, E.USER_ROLES, E.USER_MFA_RESET, E.USER_PASSWORD_RESET, E.ACCESS_REVIEW,
                E.TERMINAL_ADD, E.TERMINAL_REMOVE, E.INSTALL_OPEN, E.INSTALL_GRANT, E.INSTALL_CLOSE)),
    ("ログイン・アクセス", (E.AUTH_LOGIN, E.AUTH_LOGIN_FAILED, E.AUTH_LOCKED, E.AUTH_UNLOCK, E.AUTH_LOGOUT,
                   E.AUTH_SESSION_END, E.AUTH_SESSION_REFUSED, E.AUTH_STEP_UP, E.AUTH_PASSWORD_CHANGE, E.ACCESS_DENIED)),
    ("監査", (E.AUDIT_SEARCH, E.AUDIT_VERIFY, E.AUDIT_EXPORT, E.AUDIT_CHECKPOINT, E.AUDIT_ANCHOR_KEY)),
    ("システム・鍵", (E.SYSTEM_INIT, E.KEYS_INIT, E.KEYS_ROTATE, E.KEYS_RETIRE, E.STATS_VIEW, E.SIM_WORLD,
                E.DEMO_RUN)),
)

_MISPLACED: Final = {"os_user_changed": "別のOS利用者", "login_session_changed": "別のログインセッション",
                     "terminal_changed": "別の端末", "pathway_changed": "別の経路（Web・CLI）"}
_ACCOUNT: Final = {"disabled": "停止中の利用者", "locked": "ロック中", "expired": "利用期間の終了",
                   "not_started": "利用期間の開始前", "demo_in_production": "デモ利用者（本番環境）"}
_IMPORT: Final = {"OK": "新規登録", "U01": "更新", "I01": "変更なし", "I02": "削除済みのため取込みなし",
                  "S01": "住基ネットの死亡を維持（届出勧奨）"}
_BY_EVENT: Final[Mapping[str, Mapping[str, str]]] = {
    E.NUMBER_STORE: REGISTRATION_OUTCOME, E.PERSON_REJECT: REGISTRATION_OUTCOME, E.PERSON_IMPORT: _IMPORT,
    E.INQUIRY_STORE: INQUIRY_OUTCOMES, E.INQUIRY_REJECT: INQUIRY_OUTCOMES,
    E.JUKI_STORE: JUKI_OUTCOMES, E.JUKI_REJECT: JUKI_OUTCOMES,
    E.LINKAGE_STORE: LINKAGE_OUTCOMES, E.LINKAGE_REJECT: LINKAGE_OUTCOMES,
    E.NUMBER_DELETE: {**{code: f"削除（{label}）" for code, label in DELETION_REASON.items()},
                      "reapplied": "リストア後の再適用"},
    E.NUMBER_UNMASK: {"shown": "表示", "deleted": "削除済み", "none": "未登録", "refused": "拒否（理由不備）"},
    E.NUMBER_SEARCH: {"found": "該当あり", "not_found": "該当なし", "invalid": "番号不正"},
    E.SUBJECT_REQUEST: {"disclosure": "開示請求", "correction": "訂正請求", "suspension": "利用停止請求"},
    E.SUBJECT_HANDLE: {"handled": "対応済", "refused": "不承認"},
    E.PERSON_DECEASED: {"juki": "住基ネットによる"},
    E.AUTH_SESSION_REFUSED: _MISPLACED,
    E.AUTH_SESSION_END: {**_MISPLACED, **_ACCOUNT, "absolute_timeout": "有効期限切れ", "idle_timeout": "無操作による終了",
                         "logout": "ログアウト", "relogin": "再ログイン", "mfa_reset": "多要素認証の再設定",
                         "disable": "利用者の停止", "roles": "権限の変更"},
    E.AUTH_LOGIN_FAILED: {**_ACCOUNT, "unknown_user": "利用者名が存在しない", "terminal": "未登録の端末",
                          "terminal_throttled": "端末からの試行回数超過", "password": "パスワードの誤り",
                          "otp": "ワンタイムコードの誤り"},
    E.ACCESS_DENIED: {"permission": "権限なし", "terminal": "未登録の端末", "pending_action": "再認証後の操作の継続を拒否",
                      "password_change": "初回パスワード変更前"},
    E.JOB_REFUSE: {"duplicate": "取込済みのファイル（変更なし）"},
    E.APPROVAL_REQUEST: {"duplicate": "同じ内容の依頼あり"},
    E.INQUIRY_REFUSE: {"not_permitted": "許可リスト外"},
    E.NON_DISCLOSURE_SET: {"set": "設定", "already_set": "設定済み（申出を記録）"},
    E.SUBJECT_LIFT: {"lifted": "解除"},
    E.OUTPUT_PURGE: {"expired": "保管期限切れ", "forced": "期限前の削除"},
    E.FILE_DOWNLOAD: {"downloaded": "ダウンロード済み"}, E.FILE_EXPIRE: {"expired": "期限切れ"},
    E.STATS_VIEW: {"chart": "図の表示"},
}
_GENERIC: Final = {"ok": "正常", "sent": "送付", "dry_run": "確認のみ", "failed": "失敗", "refused": "拒否",
                   "viewed": "閲覧", "started": "開始", "partial": "一部完了", "broken": "異常あり", "locked": "ロック"}


def event_label(event: str) -> str:
    return EVENT_LABELS.get(event, event)


def outcome_label(event: str, outcome: str) -> str:
    """The outcome of one record in words: by its event's code list, else a common word; a refused file's
    code with its meaning, a file's interface or a job kind by name; else as stored."""
    found = _BY_EVENT.get(event, {}).get(outcome) or _GENERIC.get(outcome)
    if found:
        return found
    if outcome in FILE_CODES:
        return f"拒否 {outcome} {FILE_CODES[outcome][0]}"
    if event == E.MEDIA_PLAIN:
        from jutaku.exchange.labels import interface_label

        return interface_label(outcome)
    return JOB_KINDS.get(outcome, outcome)


def event_areas() -> list[tuple[str, list[tuple[str, str]]]]:
    """:data:`EVENT_AREAS` as (area, [(event, label)]) for a grouped choice (the audit screen's filter)."""
    return [(area, [(event.value, EVENT_LABELS[event]) for event in events]) for area, events in EVENT_AREAS]


#: The words for the keys of a record's detail; a key without one is shown as it is stored.
DETAIL_LABELS: Final[Mapping[str, str]] = {
    "kind": "種類", "dry_run": "試行", "code": "コード", "cursor": "処理済み件数", "counts": "件数",
    "reason": "理由", "file": "ファイル", "files": "ファイル数", "name": "名称", "rows": "件数", "count": "件数",
    "requested_by": "依頼者", "approved_by": "承認者", "approval": "承認依頼", "persons": "人数",
    "before": "変更前", "after": "変更後", "username": "利用者", "user": "利用者", "roles": "役割", "role": "役割",
    "organisation": "所属", "permission": "権限", "command": "コマンド", "view": "画面", "network": "ネットワーク",
    "sessions_ended": "終了したセッション", "security_admins": "セキュリティ管理者", "deadline": "期限",
    "event": "操作", "since": "期間（開始）", "until": "期間（終了）", "limit": "件数の上限",
    "before_seq": "この連番より前", "hits": "該当件数", "fields": "検索条件", "more": "続きあり",
    "checked": "検証件数", "first_bad_seq": "最初の異常（連番）", "from_seq": "開始（連番）",
    "checkpoint_seq": "確認点（連番）", "anchor_seq": "署名付きアンカー（連番）", "truncated": "打切り",
    "interface": "様式", "bytes": "バイト数", "sha256": "SHA-256", "hash": "ハッシュ", "records": "件数",
    "year": "年度", "procedure": "事務手続", "version": "版", "to_version": "更新後の版",
    "from_versions": "更新前の版", "new_kek": "新しい鍵暗号化鍵", "rules": "規則数", "replaced": "置き換えた版",
    "k": "秘匿の基準", "chart": "図", "accesses": "アクセス記録", "source": "取得元",
    "old_source": "変更前の記録元", "new_source": "変更後の記録元", "old_status": "変更前の状態",
    "new_status": "変更後の状態", "number": "個人番号", "method": "方法", "carrier": "搬送者",
    "media_id": "媒体", "expires_on": "保管期限", "days": "日数", "removed": "削除", "kept": "保管",
    "reapplied": "再適用", "tombstones": "削除記録", "requested": "依頼", "pending": "承認待ち",
    "destroyed": "破棄", "missing": "不足", "failures": "失敗", "last": "最終", "first": "最初",
    "label": "表示名", "flagged": "要確認",
}


def _value(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return "・".join(_value(key, v) for v in value) or "—"
    if isinstance(value, dict):
        return "、".join(f"{DETAIL_LABELS.get(str(k), k)} {_value(str(k), v)}" for k, v in value.items()) or "—"
    text = str(value)
    if text.startswith("{") and isinstance(nested := _json(text), dict):  # counts, stored as JSON text
        return _value(key, nested)
    if key == "kind":
        from jutaku.accounts.approval_labels import kind_label

        return JOB_KINDS.get(text) or kind_label(text)
    if key == "event":
        return EVENT_LABELS.get(text, text)
    return text


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


def detail_items(detail: str) -> list[tuple[str, str]]:
    """A record's detail (canonical JSON) as (label, value) pairs in its stored order: keys by
    :data:`DETAIL_LABELS`, job and approval kinds and events by their names, yes/no for flags, a value
    holding a JSON object (a job's counts) as its pairs. A detail that is not a JSON object is shown whole,
    as one pair."""
    data = _json(detail or "{}")
    if not isinstance(data, dict):
        return [("詳細", detail)]
    return [(DETAIL_LABELS.get(key, key), _value(key, value)) for key, value in data.items()]
