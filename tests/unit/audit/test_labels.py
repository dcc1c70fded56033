"""Every audit event has a Japanese name, and outcomes read as words (seed V-1: labels, not codes)."""

from __future__ import annotations

from jutaku.audit.events import AuditEvent
from jutaku.audit.labels import EVENT_LABELS, event_label, outcome_label


def test_every_event_has_a_japanese_name_and_no_name_is_a_code() -> None:
    assert set(EVENT_LABELS) == set(AuditEvent)
    assert all(label and ":" not in label and not label.isascii() for label in EVENT_LABELS.values())
    assert event_label("number:store") == "個人番号の登録" and event_label("unknown:event") == "unknown:event"


def test_outcomes_read_by_their_events_code_list_then_common_words() -> None:
    assert outcome_label("number:store", "OK") == "登録しました"
    assert outcome_label("person:reject", "E03") == "氏名カナ・生年月日・性別が対象者情報と一致しません"
    assert outcome_label("inquiry:store", "N01") == "該当なし"
    assert outcome_label("juki:store", "D02").startswith("住基ネットで死亡")
    assert outcome_label("number:delete", "1") == "削除（退去）"
    assert outcome_label("number:delete", "reapplied") == "リストア後の再適用"
    assert outcome_label("linkage:request", "sent") == "送付" and outcome_label("person:view", "ok") == "正常"
    assert outcome_label("person:view", "something-new") == "something-new"


def test_every_event_is_in_exactly_one_area_of_the_filter_and_areas_have_japanese_names() -> None:
    from jutaku.audit.labels import EVENT_AREAS, event_areas

    listed = [event for _, events in EVENT_AREAS for event in events]
    assert sorted(listed) == sorted(AuditEvent) and len(listed) == len(set(listed))
    assert all(area and not area.isascii() for area, _ in EVENT_AREAS)
    assert len({area for area, _ in EVENT_AREAS}) == len(EVENT_AREAS)
    grouped = dict(event_areas())
    assert ("number:store", "個人番号の登録") in grouped["個人番号"]
    assert ("juki:store", "住基ネット照会結果の取込み") in grouped["住基ネット"]


def test_a_records_detail_reads_as_labels_and_values() -> None:
    from jutaku.audit.labels import detail_items

    assert detail_items('{"kind":"register-kit","dry_run":false,"counts":"{\\"E03\\":2,\\"OK\\":3}"}') == [
        ("種類", "個人番号届出データの登録"), ("試行", "いいえ"), ("件数", "E03 2、OK 3")]
    assert detail_items('{"reason":"{not json"}') == [("理由", "{not json")]
    assert detail_items('{"event":"number:store","user":null,"fields":["kana"]}') == [
        ("操作", "個人番号の登録"), ("利用者", "—"), ("検索条件", "kana")]
    assert detail_items('{"kind":"role_grant","something_new":1}') == [
        ("種類", "役割付与（セキュリティ管理者・責任者）"), ("something_new", "1")]
    assert detail_items("{}") == [] and detail_items("not json") == [("詳細", "not json")]
    assert detail_items("[1]") == [("詳細", "[1]")]


def test_every_outcome_the_code_records_reads_as_a_word() -> None:
    """Each literal outcome written anywhere (``outcome="..."``) and each reason a sign-in or session records has
    a Japanese word under some event (the audit screen, `audit list` and the disclosure report show it)."""
    import re
    from pathlib import Path

    src = Path(__file__).resolve().parents[3] / "src" / "jutaku"
    literals = {m for path in src.rglob("*.py") for m in re.findall(r'outcome="([a-z_]+)"', path.read_text("utf-8"))}
    reasons = {"unknown_user", "terminal", "terminal_throttled", "password", "otp", "disabled", "locked", "expired",
               "not_started", "demo_in_production", "absolute_timeout", "idle_timeout", "logout", "relogin",
               "mfa_reset", "disable", "pathway_changed", "os_user_changed", "login_session_changed",
               "terminal_changed"}
    assert {"permission", "duplicate", "not_permitted", "set"} <= literals
    missing = {o for o in literals | reasons if all(outcome_label(e, o) == o for e in AuditEvent)}
    assert not missing, missing
    assert outcome_label("access:denied", "permission") == "権限なし"
    assert outcome_label("media:read", "R_HEADER") == "拒否 R_HEADER ヘッダ行が様式の項目名と一致しません"
    assert outcome_label("media:plain", "disclosure-report") == "保有個人情報開示書"
    assert outcome_label("task:submit", "register-kit") == "個人番号届出データの登録"
