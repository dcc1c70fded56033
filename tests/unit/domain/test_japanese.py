"""Name matching keys (住民記録システム標準仕様書 2.1.2 style folding), kanji variants, cell checks."""

from __future__ import annotations

import unicodedata

import jaconv
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain.japanese import (
    KANJI_VARIANTS,
    MAX_NAME_LENGTH,
    TextTooLong,
    has_control_chars,
    is_formula_like,
    kana_key,
    kanji_key,
    name_search_key,
    normalise_name,
)

HIRAGANA = "".join(chr(c) for c in range(0x3041, 0x3097)) + "ー　 "
KATAKANA_NAMES = st.text(alphabet="".join(chr(c) for c in range(0x30A1, 0x30F7)) + "ー・ 　ヽヾ", max_size=40)
ANY_TEXT = st.text(max_size=MAX_NAME_LENGTH // 18)  # NFKC expands at most 18-fold


@pytest.mark.parametrize("written", ["トエイ　タロー", "トエイ タロウ", "ﾄｴｲ ﾀﾛｳ", "とえい たろう", "トエイタロウ",
                                     "ﾄｴｲ　ﾀﾛｰ", "トエイ・タロウ", "トエイ タロオ", "ト エ イ タ ロ ウ"])
def test_the_registration_issue_forms_all_match(written: str) -> None:
    assert kana_key(written) == kana_key("トエイ タロウ") == "トエイタロウ"


@pytest.mark.parametrize(("a", "b"), [
    ("ガッコウ", "カツコウ"), ("パン", "ハン"), ("ヴィクトリア", "ウイクトリア"), ("ｶﾞｯｺｳ", "がっこう"),
    ("キャー", "キヤア"), ("ヮヵヶ", "ワカケ"), ("ヰヱヲ", "イエオ"), ("ケーコ", "ケイコ"), ("ケエコ", "ケイコ"),
    ("コーリ", "コオリ"), ("トール", "トオル"), ("さゝき", "ササキ"), ("ミスヾ", "ミスス"), ("ト\u3099ウ", "トウ"),
    ("ト゛ウ", "ドウ"), ("ＴＯＥＩ", "TOEI"), ("タロ－", "タロウ"), ("タロ‐", "タロウ"), ("ﾀﾛｰ", "タロウ"), ("ㇱㇿ", "シロ"),
])
def test_folding_examples(a: str, b: str) -> None:
    assert kana_key(a) == kana_key(b)


@pytest.mark.parametrize(("a", "b"), [
    ("タロウ", "ジロウ"), ("サトウ", "サイトウ"), ("オノ", "オオノ"), ("タロ", "タロウ"), ("ユキ", "ユウキ"),
    ("トエイ タロウ", "トエイ ハナコ"), ("キヨ", "キョウ"), ("ヨシダ", "ヨシノ"),
])
def test_different_names_do_not_match(a: str, b: str) -> None:
    assert kana_key(a) != kana_key(b)


def test_a_mark_with_nothing_before_it_is_dropped() -> None:
    assert kana_key("ーヽタ") == "タ"
    assert kana_key("ンー") == "ン"


@given(ANY_TEXT)
def test_kana_key_is_idempotent(text: str) -> None:
    key = kana_key(text)
    assert kana_key(key) == key


@given(st.text(alphabet=HIRAGANA, max_size=40))
def test_hiragana_and_katakana_give_the_same_key(text: str) -> None:
    assert kana_key(text) == kana_key(jaconv.hira2kata(text))


@given(KATAKANA_NAMES)
def test_half_width_and_full_width_give_the_same_key(text: str) -> None:
    assert kana_key(jaconv.z2h(text, kana=True, ascii=True, digit=True)) == kana_key(text)


@given(KATAKANA_NAMES, st.lists(st.sampled_from([" ", "　", "\t", "・"]), max_size=5))
def test_spaces_and_middle_dots_do_not_matter(text: str, extras: list[str]) -> None:
    chars = list(text)
    for extra in extras:
        chars.insert(len(chars) // 2, extra)
    assert kana_key("".join(chars)) == kana_key(text)


@given(KATAKANA_NAMES)
def test_the_key_has_only_large_plain_katakana(text: str) -> None:
    key = kana_key(text)
    assert not set(key) & set("ガパヴァッャヮヵヶヰヱヲー・ヽヾ 　")
    assert len(key) <= len(text)


def test_the_key_function_is_fast_enough_for_a_million_rows() -> None:
    import timeit

    per_call = min(timeit.repeat(lambda: kana_key("トエイ　タロー"), number=2000, repeat=5)) / 2000
    assert per_call < 20e-6  # generous bound for a loaded CI machine; the report measures ~2-3 µs


@pytest.mark.parametrize(("variant", "standard"), [
    ("髙橋", "高橋"), ("山﨑", "山崎"), ("山嵜", "山崎"), ("川碕", "川崎"), ("渡邊", "渡辺"), ("渡邉", "渡辺"),
    ("濱田", "浜田"), ("濵田", "浜田"), ("齋藤", "斎藤"), ("齊藤", "斉藤"), ("澤田", "沢田"), ("櫻井", "桜井"),
    ("廣田", "広田"), ("德川", "徳川"), ("惠子", "恵子"), ("國分", "国分"), ("嶋田", "島田"), ("冨田", "富田"),
    ("瀨戸", "瀬戸"), ("槇原", "槙原"), ("藪田", "薮田"), ("𠮷田", "吉田"), ("佐々木", "佐佐木"),
    ("都営　太郎", "都営太郎"), ("塚本", "塚本"),  # U+FA10 is folded by NFKC
])
def test_kanji_variants_fold_to_the_standard_form(variant: str, standard: str) -> None:
    assert kanji_key(variant) == kanji_key(standard)


@pytest.mark.parametrize(("a", "b"), [("斉藤", "斎藤"), ("籠田", "篭田"), ("高橋", "髙島"), ("埼玉", "崎玉")])
def test_distinct_kanji_stay_distinct(a: str, b: str) -> None:
    assert kanji_key(a) != kanji_key(b)


def test_the_variant_table_is_well_formed() -> None:
    assert 100 <= len(KANJI_VARIANTS) <= 250
    for variant, standard in KANJI_VARIANTS.items():
        assert len(variant) == 1 and len(standard) == 1 and variant != standard
        assert standard not in KANJI_VARIANTS, "no chains: one lookup reaches the standard form"
        assert unicodedata.normalize("NFKC", variant) == variant, "NFKC would hide this entry"
        standard.encode("cp932")  # the standard form is in JIS X 0208 / CP932


@pytest.mark.parametrize(("variant", "standard"), [
    ("栁田", "柳田"), ("舩橋", "船橋"), ("關口", "関口"), ("稻葉", "稲葉"), ("蘆田", "芦田"), ("劔持", "剣持"),
    ("劒持", "剣持"), ("釼持", "剣持"),
])
def test_name_variants_added_for_the_person_search_fold(variant: str, standard: str) -> None:
    assert kanji_key(variant) == kanji_key(standard) == standard


@pytest.mark.parametrize("selector", ["\ufe00", "\ufe0f", "\U000e0100", "\U000e0102", "\U000e01ef"])
def test_a_variation_selector_names_a_glyph_and_is_not_part_of_the_key(selector: str) -> None:
    """A register or 住基 name may carry an IVS (渡邉 + U+E0102 for one glyph of 邉)."""
    assert kanji_key(f"渡邉{selector} 髙{selector}子") == kanji_key("渡辺高子") == "渡辺高子"
    assert kanji_key(f"葛{selector}飾") == "葛飾"


def test_the_stored_search_key_is_the_kanji_key_cut_to_the_column() -> None:
    assert name_search_key("髙橋\u3000太郎") == kanji_key("高橋 太郎") == "高橋太郎"
    ligatures = "㍿" * 60  # 60 characters (the layout's width), 240 after NFKC
    with pytest.raises(TextTooLong):
        kanji_key(ligatures)
    assert name_search_key(ligatures) == "株式会社" * 30
    with pytest.raises(TextTooLong):
        name_search_key("高" * (MAX_NAME_LENGTH + 1))


#: Names written with a random mix of standard forms, variants and variation selectors.
NAME_PIECES = st.lists(st.sampled_from(sorted({*KANJI_VARIANTS, *KANJI_VARIANTS.values(), "々", "太", "郎", " ",
                                                "\u3000", "\U000e0100", "ノ"})), max_size=12)


@given(NAME_PIECES)
def test_a_name_folds_like_its_standard_spelling_and_folding_is_idempotent(pieces: list[str]) -> None:
    written = "".join(pieces)
    standard = "".join(KANJI_VARIANTS.get(p, p) for p in pieces)
    key = kanji_key(written)
    assert key == kanji_key(standard) and kanji_key(key) == key
    assert not set(key) & {*KANJI_VARIANTS, " ", "\u3000", "\U000e0100"}


@given(ANY_TEXT)
def test_kanji_key_is_idempotent(text: str) -> None:
    key = kanji_key(text)
    assert kanji_key(key) == key


@pytest.mark.parametrize(("raw", "normalised"), [
    ("  都営　　太郎 ", "都営 太郎"), ("ﾄｴｲ\tﾀﾛｳ", "トエイ タロウ"), ("ＡＢＣ", "ABC"), ("", ""), ("山\u3000\u3000田", "山 田"),
])
def test_normalise_name(raw: str, normalised: str) -> None:
    assert normalise_name(raw) == normalised


@given(ANY_TEXT)
def test_normalise_name_is_idempotent_and_trimmed(text: str) -> None:
    name = normalise_name(text)
    assert normalise_name(name) == name
    assert name == name.strip() and "  " not in name


@pytest.mark.parametrize("text", ["a\x00b", "\x1b[31m", "x\x7f", "\x85", "ab\u202ecd", "\u200b", "\ufeffx",
                                  "a\u2028b", "tab\there", "cr\r", "lf\n", "\ud800"])
def test_control_characters_are_found(text: str) -> None:
    assert has_control_chars(text)


@pytest.mark.parametrize("text", ["", "都営 太郎", "トエイ　タロウ", "葛\U000e0100城", "\ue000外字", "abc-123"])
def test_ordinary_text_has_no_control_characters(text: str) -> None:
    assert not has_control_chars(text)


@pytest.mark.parametrize("text", ["=1+1", "+81", "-3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_cells(text: str) -> None:
    assert is_formula_like(text)


@pytest.mark.parametrize("text", ["", "都営", "1=1", " =1", "＝1", "a@b"])
def test_not_formula_like(text: str) -> None:
    assert not is_formula_like(text)


@pytest.mark.parametrize("function", [kana_key, kanji_key, normalise_name])
def test_overlong_names_are_refused(function: object) -> None:
    assert callable(function)
    function("ア" * MAX_NAME_LENGTH)
    with pytest.raises(TextTooLong):
        function("ア" * (MAX_NAME_LENGTH + 1))


def test_a_key_that_nfkc_expands_past_the_cap_is_refused() -> None:
    with pytest.raises(TextTooLong):
        kana_key("\ufdfa" * 10)  # one character becomes 18 under NFKC
