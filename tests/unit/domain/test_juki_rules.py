"""Juki-net answer rules (jutaku.domain.juki)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain.juki import LABELS, Answer, JukiOutcome, Registered, decide, discrepancies

HELD = Registered("都営 太郎", "トエイ タロウ", date(1970, 1, 23), "1", "東京都新宿区西新宿二丁目8番1号 101号室")
SAME = Answer("都営 太郎", "ﾄｴｲ ﾀﾛｳ", date(1970, 1, 23), "1", "東京都新宿区西新宿二丁目8番1号　101号室", "記載:転入", "1")


def run(answer: Answer | None = SAME, **kw: object) -> tuple[JukiOutcome, list[str]]:
    args: dict[str, object] = {"malformed": False, "result_code": "00", "query_open": True, "same_number": True,
                               "answer": answer, "held": HELD} | kw
    return decide(**args)  # type: ignore[arg-type]


def test_a_matching_identity_is_confirmed_and_a_death_is_recognised() -> None:
    assert run() == (JukiOutcome.OK, [])
    dead = Answer(SAME.name, SAME.kana, SAME.birth_date, SAME.sex, SAME.address, "消除:死亡", "2")
    assert run(dead)[0] is JukiOutcome.DECEASED


def test_moves_name_changes_and_another_person_are_discrepancies_never_quotes() -> None:
    moved = Answer(SAME.name, SAME.kana, SAME.birth_date, SAME.sex, "東京都中野区本町一丁目1番1号", "修正:転居", "1")
    renamed = Answer("佐藤 太郎", SAME.kana, SAME.birth_date, SAME.sex, SAME.address, "修正:氏名変更", "1")
    gone = Answer(SAME.name, SAME.kana, SAME.birth_date, SAME.sex, SAME.address, "消除:転出", "2")
    other = Answer("山田 花子", "ヤマダ ハナコ", date(1980, 5, 5), "2", SAME.address, "記載:転入", "1")
    for answer, word in ((moved, "住所"), (renamed, "氏名"), (gone, "消除"), (other, "生年月日")):
        outcome, found = run(answer)
        assert outcome is JukiOutcome.DISCREPANCY and any(word in f for f in found)
        assert all(answer.address not in f and answer.name not in f for f in found)
    # A death of another person is an identity discrepancy, not a death of ours.
    other_dead = Answer(other.name, other.kana, other.birth_date, other.sex, other.address, "消除:死亡", "2")
    assert run(other_dead)[0] is JukiOutcome.DISCREPANCY


@given(st.booleans(), st.sampled_from(["00", "01", "09", "07"]), st.sampled_from([None, True, False]), st.booleans())
def test_the_lowest_code_wins(malformed: bool, code: str, query_open: bool | None, same: bool) -> None:
    outcome, _ = run(malformed=malformed, result_code=code, query_open=query_open, same_number=same)
    if malformed or code == "07":
        assert outcome is JukiOutcome.MALFORMED
    elif query_open is None:
        assert outcome is JukiOutcome.UNKNOWN_QUERY
    elif not query_open:
        assert outcome is JukiOutcome.ALREADY_ANSWERED
    elif code == "01":
        assert outcome is JukiOutcome.NOT_FOUND
    elif code == "09":
        assert outcome is JukiOutcome.SERVER_ERROR
    elif not same:
        assert outcome is JukiOutcome.OTHER_NUMBER
    else:
        assert outcome is JukiOutcome.OK


def test_width_and_space_differences_are_not_discrepancies() -> None:
    assert discrepancies(HELD, SAME) == []


def test_every_code_is_on_the_outcome_page() -> None:
    page = (Path(__file__).resolve().parents[3] / "docs" / "outcome-codes.md").read_text(encoding="utf-8")
    assert set(LABELS) == {o.value for o in JukiOutcome}
    for code, label in LABELS.items():
        assert f"| `{code}` | {label} |" in page
