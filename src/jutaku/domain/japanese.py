"""Japanese text: matching keys for names in kana and kanji, display normalisation, cell checks.

Sources:

- 住民記録システム標準仕様書 (総務省), 氏名の検索 (section 2.1.2 as cited in the project brief): names
  in kana are searched after width unification, 清音化 (voiced marks folded) and 拡大化 (small kana
  folded), ignoring spaces and 中黒.
- 現代仮名遣い (昭和61年内閣告示第1号) 本文第1の5 and 第2: how a long vowel is spelt in kana; the basis of
  our long-vowel rule (see :func:`kana_key`).
- OWASP "CSV Injection" and interfaces.md ("Conventions"): cells starting with ``= + - @`` TAB CR.
- docs/adr/0004-japanese-text-matching.md: why these rules and why our own variant table.

Every function caps its input length before doing anything else; no regular expression is used, so
the cost is linear in the (capped) input.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Mapping
from importlib import resources
from typing import Final

#: Longest name we accept (characters); matches the register's ``name_kana``/``kana_key`` columns.
MAX_NAME_LENGTH: Final = 120

_NFKC: Final = "NFKC"


class TextTooLong(ValueError):
    """The text is longer than :data:`MAX_NAME_LENGTH` (before or after normalisation)."""


def _check_length(text: str) -> None:
    if len(text) > MAX_NAME_LENGTH:
        raise TextTooLong(f"longer than {MAX_NAME_LENGTH} characters")


# --------------------------------------------------------------------------------------------------
# Kana key tables, built once at import.

_HIRAGANA_FIRST: Final = 0x3041  # ぁ
_HIRAGANA_LAST: Final = 0x3096  # ゖ
_KATAKANA_OFFSET: Final = 0x60  # ぁ (3041) -> ァ (30A1)

#: Voiced, semi-voiced, small and historical katakana -> the plain large kana (清音化・拡大化).
_KATAKANA_FOLDS: Final = dict(
    zip(
        "ガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポヴヷヸヹヺヾ"
        "ァィゥェォッャュョヮヵヶヰヱヲ"
        "ㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ",
        "カキクケコサシスセソタチツテトハヒフヘホハヒフヘホウワイエオヽ"
        "アイウエオツヤユヨワカケイエオ"
        "クシストヌハヒフヘホムラリルレロ",
        strict=True,
    )
)

#: Long-vowel marks and their look-alikes (after NFKC): ー ‐ - – — ― −.
_LONG_MARKS: Final = "ー\u2010-\u2013\u2014\u2015\u2212"
_LONG: Final = "ー"
_REPEAT: Final = "ヽ"  # katakana iteration mark; ゝ ゞ ヾ fold to it

#: Whitespace removed from keys (NFKC already turns other Unicode spaces into " ").
_WHITESPACE: Final = " \t\n\r\f\v\u00a0\u3000"
#: Removed from a kana key: whitespace, 中黒, combining and spacing (semi-)voiced marks.
_KANA_DROPPED: Final = _WHITESPACE + "\u30fb\u00b7\u3099\u309a\u309b\u309c"

#: Katakana by the vowel of their column (after folding).
_COLUMNS: Final = {
    "a": "アカサタナハマヤラワ",
    "i": "イキシチニヒミリ",
    "u": "ウクスツヌフムユル",
    "e": "エケセテネヘメレ",
    "o": "オコソトノホモヨロ",
}
#: The kana that spells a lengthened vowel of each column (現代仮名遣い 第1の5: エ列 + い, オ列 + う).
_LONG_SPELLING: Final = {"a": "ア", "i": "イ", "u": "ウ", "e": "イ", "o": "ウ"}


def _kana_fold(ch: str) -> str:
    """One character, already NFKC: hiragana to katakana, katakana folds, marks and drops."""
    code = ord(ch)
    if _HIRAGANA_FIRST <= code <= _HIRAGANA_LAST:
        ch = chr(code + _KATAKANA_OFFSET)
    elif ch in "ゝゞ":
        ch = _REPEAT
    elif ch in _LONG_MARKS:
        return _LONG
    elif ch in _KANA_DROPPED:
        return ""
    elif ch == "ゟ":
        return "ヨリ"
    return _KATAKANA_FOLDS.get(ch, ch)


#: Characters the kana table maps (identity included: a miss in ``str.translate`` is slow).
_KANA_DOMAIN: Final = (
    range(0x00, 0x80),  # ASCII
    range(0x00A0, 0x00B8),  # NBSP, middle dot
    range(0x2010, 0x2016),  # hyphens and dashes
    range(0x2212, 0x2213),  # minus sign
    range(0x3000, 0x3100),  # CJK punctuation, hiragana, katakana
    range(0x31F0, 0x3200),  # small katakana extension
    range(0xFF01, 0xFFA0),  # full-width ASCII, half-width katakana
)


def _build_kana_table() -> dict[int, str]:
    """``ch -> fold(NFKC(ch))`` for every character of :data:`_KANA_DOMAIN`."""
    table: dict[int, str] = {}
    for block in _KANA_DOMAIN:
        for code in block:
            table[code] = "".join(_kana_fold(c) for c in unicodedata.normalize(_NFKC, chr(code)))
    return table


#: Katakana of the オ and エ columns (after folding).
_O_COLUMN: Final = frozenset(_COLUMNS["o"])
_E_COLUMN: Final = frozenset(_COLUMNS["e"])


def _build_pairs() -> dict[str, str]:
    """(previous kana + mark) -> replacement, for the marks whose meaning depends on what precedes."""
    pairs: dict[str, str] = {}
    for vowel, kana in _COLUMNS.items():
        for prev in kana:
            pairs[prev + _LONG] = _LONG_SPELLING[vowel]
            pairs[prev + _REPEAT] = prev
    for prev in _O_COLUMN:
        pairs[prev + "オ"] = "ウ"
    for prev in _E_COLUMN:
        pairs[prev + "エ"] = "イ"
    pairs["ン" + _REPEAT] = "ン"
    return pairs


_KANA_TABLE: Final = str.maketrans(_build_kana_table())
_PAIRS: Final = _build_pairs()
#: What a context-dependent mark becomes when nothing in :data:`_PAIRS` applies.
_MARK_DEFAULT: Final = {_LONG: "", _REPEAT: "", "オ": "オ", "エ": "エ"}
_MARKS: Final = frozenset(_MARK_DEFAULT)


def _resolve_in_order(key: str) -> str:
    """Resolve every mark left to right against the already-resolved previous character."""
    out: list[str] = []
    prev = ""
    for ch in key:
        if ch in _MARKS:
            ch = _PAIRS.get(prev + ch, _MARK_DEFAULT[ch])
            if not ch:
                continue
        out.append(ch)
        prev = ch
    return "".join(out)


def _fold_after(key: str, mark: str, column: frozenset[str], spelling: str) -> str:
    """``mark`` after a kana of ``column`` becomes ``spelling``; same result as :func:`_resolve_in_order`
    when the key holds no ー or ヽ (オ and エ never affect each other's context)."""
    i = key.find(mark, 1)
    while i != -1:
        if key[i - 1] in column:
            key = key[:i] + spelling + key[i + 1 :]
        i = key.find(mark, i + 1)
    return key


def _resolve_marks(key: str) -> str:
    """The long-vowel and iteration-mark rules of :func:`kana_key`, step 4 and 5."""
    if _LONG in key or _REPEAT in key:
        return _resolve_in_order(key)
    key = _fold_after(key, "オ", _O_COLUMN, "ウ")
    return _fold_after(key, "エ", _E_COLUMN, "イ")


def _translate_nfkc(text: str, table: Mapping[int, str | None]) -> str:
    """``table`` (which already holds the NFKC form of the characters it maps), then NFKC + ``table``
    again while the text is not NFKC-stable (compatibility characters, or a deletion that let
    characters compose). Same result as NFKC first, without NFKC's cost on ordinary text."""
    text = text.translate(table)
    for _ in range(4):
        if unicodedata.is_normalized(_NFKC, text):
            break
        text = unicodedata.normalize(_NFKC, text).translate(table)
    return text


def kana_key(text: str) -> str:
    """The matching key of a name in kana (氏名カナ), per 住民記録システム標準仕様書 2.1.2 style folding.

    Two names match when their keys are equal. The key is built by:

    1. NFKC: half-width カナ and ｰ become full width, full-width ASCII becomes ASCII, ideographic
       spaces become spaces.
    2. Hiragana to katakana; 清音化 (ガ→カ, パ→ハ, ヴ→ウ, ヂ→チ, ヅ→ツ); 拡大化 (ァ→ア, ッ→ツ, ャ→ヤ,
       ヮ→ワ, ヵ→カ, ヶ→ケ); historical ヰ→イ, ヱ→エ, ヲ→オ.
    3. Dropped: all spaces, 中黒 ・, stray (semi-)voiced marks.
    4. Long vowels (現代仮名遣い 第1の5 and 第2): ー and its look-alikes (－ ‐ ｰ − – — ―) become the kana
       that spells the lengthened vowel of the preceding kana: ア, イ or ウ for the ア/イ/ウ columns,
       イ after an エ-column kana and ウ after an オ-column kana. Likewise オ after an オ-column kana
       becomes ウ and エ after an エ-column kana becomes イ. So タロー, タロウ and タロオ all give タロウ,
       ケーコ and ケイコ give ケイコ, while タロ, サトウ/サイトウ and オノ/オオノ stay different: a long
       vowel is folded in spelling, never deleted. A mark with no kana before it is dropped.
    5. Iteration marks ゝ ゞ ヽ ヾ repeat the preceding kana (after folding).

    Raises :class:`TextTooLong` when the input or the key exceeds :data:`MAX_NAME_LENGTH`.
    """
    _check_length(text)
    key = _resolve_marks(_translate_nfkc(text, _KANA_TABLE))
    _check_length(key)
    return key


# --------------------------------------------------------------------------------------------------
# Kanji key.

_ITERATION: Final = "々"


def _load_variants() -> dict[str, str]:
    """``data/kanji_variants.csv``: variant -> standard form (one character each)."""
    text = resources.files("jutaku.domain.data").joinpath("kanji_variants.csv").read_text("utf-8")
    return {row["variant"]: row["standard"] for row in csv.DictReader(io.StringIO(text))}


#: 異体字 and 旧字体 -> the form used in the register (see the CSV and ADR 0004).
KANJI_VARIANTS: Final = _load_variants()
#: Variation selectors: VS1–16 (U+FE00–FE0F) and the ideographic variation sequences' VS17–256
#: (U+E0100–E01EF, IVS, Adobe-Japan1 and Moji_Joho collections). A register or 住基 name may carry
#: 渡邉 + U+E0102 for one glyph of 邉; the selector names a glyph, not another character, so a key drops it.
VARIATION_SELECTORS: Final = (range(0xFE00, 0xFE10), range(0xE0100, 0xE01F0))
_KANJI_TABLE: Final = str.maketrans({
    **{ord(v): s for v, s in KANJI_VARIANTS.items()},
    **{ord(ch): None for ch in _WHITESPACE},
    **{code: None for block in VARIATION_SELECTORS for code in block},
})


def _expand_iteration(key: str) -> str:
    """々 repeats the preceding character (佐々木 → 佐佐木); one at the start is kept."""
    out: list[str] = []
    for ch in key:
        out.append(out[-1] if ch == _ITERATION and out else ch)
    return "".join(out)


def kanji_key(text: str) -> str:
    """The matching key of a name in kanji: NFKC, spaces and variation selectors removed, variants
    folded, 々 expanded (ADR 0004).

    Variants (異体字: 髙→高, 﨑→崎, 邊/邉→辺 …; 旧字体: 澤→沢, 櫻→桜 …) are folded with the table in
    ``data/kanji_variants.csv``; CJK compatibility ideographs (塚 U+FA10 …) are already folded by NFKC;
    variation selectors (IVS, :data:`VARIATION_SELECTORS`) are dropped. 斉 and 斎 are distinct
    characters and are not folded into each other (齊→斉, 齋→斎).

    Raises :class:`TextTooLong` when the input or the key exceeds :data:`MAX_NAME_LENGTH`.
    """
    _check_length(text)
    key = _kanji_fold(text)
    _check_length(key)
    return key


def _kanji_fold(text: str) -> str:
    key = _translate_nfkc(text, _KANJI_TABLE)
    return _expand_iteration(key) if _ITERATION in key else key


def name_search_key(text: str) -> str:
    """The kanji key as the register stores it to search names by prefix (ADR 0023): :func:`kanji_key`,
    cut to :data:`MAX_NAME_LENGTH`. Never raises for a name the layouts admit (≤ 60 characters) even when
    NFKC expands ligatures (㍿ → 株式会社) past the column: a prefix search uses only the start.

    Raises :class:`TextTooLong` when the input exceeds :data:`MAX_NAME_LENGTH`.
    """
    _check_length(text)
    return _kanji_fold(text)[:MAX_NAME_LENGTH]


def normalise_name(text: str) -> str:
    """Display/storage form of a name: NFKC, runs of whitespace to one ASCII space, trimmed.

    The original spelling is kept elsewhere; this form is what screens and exports show.
    Raises :class:`TextTooLong` when the input exceeds :data:`MAX_NAME_LENGTH`.
    """
    _check_length(text)
    return " ".join(unicodedata.normalize(_NFKC, text).split())


# --------------------------------------------------------------------------------------------------
# Cell checks for validators (interfaces.md, "Conventions").

#: Unicode categories that never belong in a name, code or address cell.
_CONTROL_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: First characters that make a spreadsheet treat a cell as a formula (OWASP CSV Injection).
FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")


def has_control_chars(text: str) -> bool:
    """True when ``text`` contains a control (Cc: C0, DEL, C1), format (Cf: bidi overrides, zero-width,
    BOM), surrogate (Cs) or line/paragraph separator (Zl, Zp) character. TAB, CR and LF count.

    Private-use characters (外字) and variation selectors (IVS) are not controls. Linear in the input.
    """
    if text.isprintable():  # fast path: printable text has none of these categories
        return False
    return any(unicodedata.category(ch) in _CONTROL_CATEGORIES for ch in text if not ch.isprintable())


def is_formula_like(text: str) -> bool:
    """True when the cell starts with ``= + - @`` TAB or CR (interfaces.md; OWASP CSV Injection)."""
    return text.startswith(FORMULA_PREFIXES)
