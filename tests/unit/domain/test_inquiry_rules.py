"""Inquiry rules (jutaku.domain.inquiry): eligibility, answer items, outcomes and discrepancies."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain.inquiry import (
    EXCLUSION_LABELS,
    INFO_ITEMS,
    OUTCOME_LABELS,
    PRECEDENCE,
    Candidate,
    Exclusion,
    Held,
    InquiryOutcome,
    contact_information,
    decide,
    discrepancies,
    exclusion,
    parse_result_data,
)

INFO = st.sampled_from([f"TM990000000000{k}" for k in INFO_ITEMS])
PERMITTED = st.dictionaries(INFO, st.booleans(), max_size=7)
candidates = st.builds(Candidate, st.booleans(), st.booleans(), st.booleans(), st.booleans(),
                       suspended=st.booleans(), reacquiring=st.booleans())


@given(candidates, PERMITTED, st.sets(INFO))
def test_requested_codes_are_permitted_consented_and_new_and_a_reason_is_given_otherwise(
        c: Candidate, permitted: dict[str, bool], already: set[str]) -> None:
    codes, reason = exclusion(c, permitted, already)
    assert (reason is None) == bool(codes)
    for code in codes:
        assert code in permitted and code not in already and (c.consent or not permitted[code])
    if codes:
        assert c.current and c.has_number and c.has_integrated_number
        assert not c.suspended and not c.reacquiring
        # Nothing permitted, consented and new is left out.
        assert set(codes) == {k for k, needs in permitted.items() if (c.consent or not needs) and k not in already}


def _applies(code: Exclusion, c: Candidate, permitted: dict[str, bool], already: set[str]) -> bool:
    """Whether ``code``'s condition holds, on its own (independent of the rule's order)."""
    consented = {k for k, needs in permitted.items() if c.consent or not needs}
    return {
        Exclusion.SUSPENDED: c.suspended, Exclusion.NOT_PERMITTED: not permitted, Exclusion.NOT_CURRENT: not c.current,
        Exclusion.NO_NUMBER: not c.has_number, Exclusion.NO_INTEGRATED_NUMBER: not c.has_integrated_number,
        Exclusion.REACQUIRING: c.reacquiring, Exclusion.NO_CONSENT: not consented,
        Exclusion.ALREADY_REQUESTED: consented <= already,
    }[code]


@given(candidates, PERMITTED, st.sets(INFO))
def test_the_first_applicable_reason_in_precedence_order_is_given(c: Candidate, permitted: dict[str, bool],
                                                                  already: set[str]) -> None:
    _, reason = exclusion(c, permitted, already)
    first = next((code for code in PRECEDENCE if _applies(code, c, permitted, already)), None)
    assert reason is first
    assert set(PRECEDENCE) == set(Exclusion) and len(PRECEDENCE) == len(Exclusion)


@given(candidates, PERMITTED, st.sets(INFO))
def test_a_suspended_person_is_never_asked_about_and_always_says_why(c: Candidate, permitted: dict[str, bool],
                                                                     already: set[str]) -> None:
    """Seed V-1: a handled 利用停止請求 stops use at once, whatever else holds (X07 overrides)."""
    codes, reason = exclusion(Candidate(c.current, c.has_number, c.has_integrated_number, c.consent,
                                        suspended=True, reacquiring=c.reacquiring), permitted, already)
    assert codes == [] and reason is Exclusion.SUSPENDED


@given(candidates, PERMITTED, st.sets(INFO))
def test_a_number_awaiting_reacquisition_is_never_used(c: Candidate, permitted: dict[str, bool],
                                                       already: set[str]) -> None:
    codes, reason = exclusion(Candidate(c.current, c.has_number, c.has_integrated_number, c.consent,
                                        suspended=c.suspended, reacquiring=True), permitted, already)
    assert codes == [] and reason in (Exclusion.SUSPENDED, Exclusion.NOT_PERMITTED, Exclusion.NOT_CURRENT,
                                      Exclusion.NO_NUMBER, Exclusion.NO_INTEGRATED_NUMBER, Exclusion.REACQUIRING)


@given(candidates, PERMITTED, st.sets(INFO))
def test_household_members_get_only_information_that_needs_no_consent(c: Candidate, permitted: dict[str, bool],
                                                                      already: set[str]) -> None:
    """Seed II-3 ⑧: 同一住所の者 are asked for 連絡先等情報 (no consent needed), never 業務関係情報."""
    member = Candidate(c.current, c.has_number, c.has_integrated_number, False, suspended=c.suspended,
                       reacquiring=c.reacquiring)
    codes, _ = exclusion(member, contact_information(permitted), already)
    assert all(not permitted[code] for code in codes)
    assert contact_information(permitted) == {k: False for k, needs in permitted.items() if not needs}


@given(INFO, st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=9))
def test_answer_data_must_hold_exactly_the_items_of_its_code(info: str, data: dict[str, str]) -> None:
    parsed = parse_result_data(info, json.dumps(data, ensure_ascii=False))
    assert (parsed is not None) == (set(data) == set(INFO_ITEMS[info[-2:]]))


@given(INFO)
def test_complete_items_parse_and_junk_does_not(info: str) -> None:
    items = {k: "1" for k in INFO_ITEMS[info[-2:]]}
    assert parse_result_data(info, json.dumps(items, ensure_ascii=False)) == items
    for junk in ("", "[]", "{", "null", json.dumps(items | {"余分": "1"}, ensure_ascii=False)):
        assert parse_result_data(info, junk) is None


def test_outcomes_follow_the_lowest_code() -> None:
    base = {"malformed": False, "result_code": "00", "data_ok": True, "request_open": True, "same_person": True,
            "same_information": True}
    assert decide(**base) is InquiryOutcome.OK  # type: ignore[arg-type]
    assert decide(**base | {"data_ok": False, "request_open": None}) is InquiryOutcome.MALFORMED  # type: ignore[arg-type]
    assert decide(**base | {"request_open": None, "same_person": False}) is InquiryOutcome.UNKNOWN_REQUEST  # type: ignore[arg-type]
    assert decide(**base | {"request_open": False}) is InquiryOutcome.ALREADY_ANSWERED  # type: ignore[arg-type]
    assert decide(**base | {"same_person": False, "same_information": False}) is InquiryOutcome.OTHER_PERSON  # type: ignore[arg-type]
    assert decide(**base | {"same_information": False}) is InquiryOutcome.OTHER_INFORMATION  # type: ignore[arg-type]
    assert decide(**base | {"result_code": "02", "data_ok": False}) is InquiryOutcome.NOT_SET  # type: ignore[arg-type]
    assert decide(**base | {"result_code": "07"}) is InquiryOutcome.MALFORMED  # type: ignore[arg-type]
    assert set(OUTCOME_LABELS) == {o.value for o in InquiryOutcome}
    assert set(EXCLUSION_LABELS) == {e.value for e in Exclusion}


HELD = Held("都営 太郎", "01", "都営 太郎", 2)


def test_discrepancies_against_the_register() -> None:
    assert discrepancies("TM99000000000002", {"世帯主氏名": "都營　太郎", "続柄": "世帯主"}, HELD) == []  # variant kanji
    assert len(discrepancies("TM99000000000002", {"世帯主氏名": "都営 花子", "続柄": "子"}, HELD)) == 2
    name_change = {"氏名変更の有無": "1", "変更後氏名": "佐藤 太郎", "婚姻状況": "2", "変更年月日": "20260101"}
    assert discrepancies("TM99000000000007", name_change, HELD) == ["戸籍上の氏名変更が届出されていません"]
    assert discrepancies("TM99000000000007", name_change | {"変更後氏名": "都営 太郎"}, HELD) == []
    tax = dict.fromkeys(INFO_ITEMS["01"], "0") | {"課税区分": "1", "扶養親族数": "3"}
    assert discrepancies("TM99000000000001", tax, HELD) == ["課税上の扶養親族数が届出の世帯構成と異なります"]
    assert discrepancies("TM99000000000001", tax | {"課税区分": "3"}, HELD) == []
    assert discrepancies("TM99000000000001", tax, Held("都営 花子", "02", "都営 太郎", 2)) == []


FIXED = {"住民票の世帯主氏名が届出の世帯主と異なります", "住民票の続柄が届出の続柄と異なります",
         "戸籍上の氏名変更が届出されていません", "課税上の扶養親族数が届出の世帯構成と異なります"}


@given(INFO, st.text(max_size=30), st.text(max_size=30))
def test_a_discrepancy_is_a_fixed_text_never_a_quote_of_the_answer(info: str, a: str, b: str) -> None:
    data = {k: (a if i % 2 else b) for i, k in enumerate(INFO_ITEMS[info[-2:]])}
    assert set(discrepancies(info, data, HELD)) <= FIXED


def test_the_outcome_code_page_lists_every_code() -> None:
    from pathlib import Path

    from jutaku.domain.linkage import LABELS

    page = (Path(__file__).resolve().parents[3] / "docs" / "outcome-codes.md").read_text(encoding="utf-8")
    for code, label in [*LABELS.items(), *EXCLUSION_LABELS.items(), *OUTCOME_LABELS.items()]:
        assert f"| `{code}` | {label} |" in page


def test_result_items_read_as_words_codes_by_label_amounts_in_yen_dates_with_dashes() -> None:
    from jutaku.domain.inquiry import describe, item_text

    tax = {"課税年度": "2026", "課税区分": "1", "総所得金額等": "2576000", "給与収入額": "3680000",
           "公的年金等収入額": "0", "所得割額": "148600", "均等割額": "5000", "扶養親族数": "2"}
    assert describe("TM99000000000001", tax) == [
        ("課税年度", "2026年度"), ("課税区分", "課税"), ("総所得金額等", "2,576,000円"), ("給与収入額", "3,680,000円"),
        ("公的年金等収入額", "0円"), ("所得割額", "148,600円"), ("均等割額", "5,000円"), ("扶養親族数", "2人")]
    assert describe("TM99000000000003", {"受給状況": "2", "開始日": "20200401", "廃止日": ""}) == [
        ("受給状況", "廃止"), ("開始日", "2020-04-01"), ("廃止日", "—")]
    assert dict(describe("TM99000000000007", {"氏名変更の有無": "1", "変更後氏名": "山田 花子", "婚姻状況": "4",
                                              "変更年月日": "20251201"})) == {
        "氏名変更の有無": "あり", "変更後氏名": "山田 花子", "婚姻状況": "死別", "変更年月日": "2025-12-01"}
    assert item_text("障害等級", "3") == "3級" and item_text("障害程度", "2") == "2度" and item_text("手帳有無", "1") == "あり"
    # A value that does not fit its item is shown as it came: the person must see what is held.
    assert item_text("課税区分", "7") == "7" and item_text("総所得金額等", "不明") == "不明"
    assert item_text("交付日", "2020") == "2020"
    assert describe("TM99000000000099", {"b": "2", "a": "1"}) == [("a", "1"), ("b", "2")]
