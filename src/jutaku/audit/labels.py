"""Japanese names of audit events and their outcomes, for what a person or a reviewer reads (seed V-1).

The trail stores codes (:class:`jutaku.audit.events.AuditEvent`, outcome codes); a disclosure report or
a screen shows these labels instead. Every event has a label (a unit test keeps it so); an outcome
without a known label is shown as it is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from jutaku.audit.events import AuditEvent as E
from jutaku.domain.inquiry import OUTCOME_LABELS as INQUIRY_OUTCOMES
from jutaku.domain.juki import LABELS as JUKI_OUTCOMES
from jutaku.domain.linkage import LABELS as LINKAGE_OUTCOMES
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
    E.APPROVAL_EXECUTE: "承認済み処理の実行", E.ACCESS_REVIEW: "利用者・権限の点検",
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
    E.AUTH_SESSION_REFUSED: {"os_user_changed": "別のOS利用者", "login_session_changed": "別のログインセッション",
                             "terminal_changed": "別の端末", "pathway_changed": "別の経路（Web・CLI）"},
}
_GENERIC: Final = {"ok": "正常", "sent": "送付", "dry_run": "確認のみ", "failed": "失敗", "refused": "拒否",
                   "viewed": "閲覧", "started": "開始", "partial": "一部完了", "broken": "異常あり"}


def event_label(event: str) -> str:
    return EVENT_LABELS.get(event, event)


def outcome_label(event: str, outcome: str) -> str:
    """The outcome of one record in words: by its event's code list, else a common word, else as stored."""
    return _BY_EVENT.get(event, {}).get(outcome) or _GENERIC.get(outcome, outcome)
