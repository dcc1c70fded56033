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
