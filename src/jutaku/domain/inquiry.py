"""Information inquiries (情報照会, F2/F4), pure: who is asked about what, what an answer must hold, and
where an answer disagrees with what the register holds.

**Eligibility** (issue 5 item 3, issue 12). A (filing, covered person, information code) triple is requested
only when the information is permitted for the procedure and the person's 住宅区分 (the active allow-list),
the person's use is not suspended, the person is current, has a registered My Number and a valid integrated
number, and consented when the rule requires consent. Information whose rule needs no consent (連絡先等情報,
seed II-3 ⑧) is also asked about every current, numbered member of the filer's household who has no filing
of their own (同一住所の者): the same rule with ``consent`` false. A person left out gets one reason code,
the first applicable in this order (codes are never renumbered: ``X07`` and ``X08`` came later):

| code | reason |
|---|---|
| ``X07`` | use suspended (a handled 利用停止請求 not lifted): overrides every other reason |
| ``X01`` | 住宅区分 has no permitted information for this procedure (allow-list) |
| ``X02`` | the person is not current (状態 2–4) |
| ``X03`` | no registered My Number |
| ``X04`` | no integrated number (団体内統合利用番号 not obtained yet) |
| ``X08`` | the integrated number awaits re-acquisition (the My Number was changed) |
| ``X05`` | no consent to inquiries of business information |
| ``X06`` | already requested (open or answered) — nothing new to ask |

**Answers** (F4). Outcome of an inquiry-result row, lowest applicable code wins:

| code | meaning |
|---|---|
| ``OK``  | 00 該当あり: stored (a discrepancy is flagged on the result, see below) |
| ``N01`` | 01 該当なし: stored |
| ``N02`` | 02 未設定: stored with its reason |
| ``N09`` | 09 エラー: the request is closed as an error, to follow up |
| ``E00`` | malformed row, or 結果データ without exactly the items of its information code |
| ``Q01`` | 要求番号 unknown |
| ``Q02`` | request already answered (earlier file or earlier row) |
| ``Q03`` | 団体内統合利用番号 is not the request's person's |
| ``Q04`` | 特定個人情報名コード is not the one requested |

**Discrepancies** are checked against the register for 住民票関係 (世帯主氏名, 続柄), 戸籍 (an unreported
name change) and 地方税 (扶養親族数 of a taxed household head); each yields a Japanese description and puts the
person on the notice list (届出勧奨リスト). The descriptions never quote a number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from jutaku.domain.japanese import kanji_key

#: Items of 結果データ by the last two digits of the 特定個人情報名コード (interfaces.md, inquiry-result).
INFO_ITEMS: Final[dict[str, tuple[str, ...]]] = {
    "01": ("課税年度", "課税区分", "総所得金額等", "給与収入額", "公的年金等収入額", "所得割額", "均等割額", "扶養親族数"),
    "02": ("世帯主氏名", "続柄"),
    "03": ("受給状況", "開始日", "廃止日"),
    "04": ("受給状況", "開始日", "廃止日"),
    "05": ("手帳有無", "障害等級", "交付日"),
    "06": ("手帳有無", "障害等級", "有効期限"),
    "07": ("氏名変更の有無", "変更後氏名", "婚姻状況", "変更年月日"),
    "90": ("手帳有無", "障害程度", "交付日"),
}
RELATIONSHIPS: Final = {"01": ("世帯主",), "02": ("妻", "夫"), "03": ("子",), "04": ("父", "母"), "05": ("縁故者",)}


class Exclusion(StrEnum):
    NOT_PERMITTED = "X01"
    NOT_CURRENT = "X02"
    NO_NUMBER = "X03"
    NO_INTEGRATED_NUMBER = "X04"
    NO_CONSENT = "X05"
    ALREADY_REQUESTED = "X06"
    SUSPENDED = "X07"
    REACQUIRING = "X08"


EXCLUSION_LABELS: Final = {
    "X01": "住宅区分に対して照会が許可された特定個人情報がありません（許可リスト）",
    "X02": "対象者が有効ではありません（退去・辞退・死亡）",
    "X03": "個人番号が登録されていません",
    "X04": "団体内統合利用番号が未取得です",
    "X05": "照会への同意がありません",
    "X06": "照会済みです（回答待ちまたは回答済）",
    "X07": "利用停止中です（利用停止請求に対応済み・未解除）",
    "X08": "個人番号の変更により団体内統合利用番号を再取得中です",
}
#: The order in which reasons are checked (module docstring): the first that applies is given.
PRECEDENCE: Final = (Exclusion.SUSPENDED, Exclusion.NOT_PERMITTED, Exclusion.NOT_CURRENT, Exclusion.NO_NUMBER,
                     Exclusion.NO_INTEGRATED_NUMBER, Exclusion.REACQUIRING, Exclusion.NO_CONSENT,
                     Exclusion.ALREADY_REQUESTED)


class InquiryOutcome(StrEnum):
    OK = "OK"
    NOT_FOUND = "N01"
    NOT_SET = "N02"
    SERVER_ERROR = "N09"
    MALFORMED = "E00"
    UNKNOWN_REQUEST = "Q01"
    ALREADY_ANSWERED = "Q02"
    OTHER_PERSON = "Q03"
    OTHER_INFORMATION = "Q04"


OUTCOME_LABELS: Final = {
    "OK": "該当あり（取得しました）",
    "N01": "該当なし",
    "N02": "未設定",
    "N09": "照会エラー（要確認）",
    "E00": "項目の形式が不正です（結果データを含む）",
    "Q01": "要求番号が存在しません",
    "Q02": "この要求番号には既に回答があります",
    "Q03": "団体内統合利用番号が照会対象者と一致しません",
    "Q04": "特定個人情報名コードが照会内容と一致しません",
}
RESULT_CODES: Final = {"00": InquiryOutcome.OK, "01": InquiryOutcome.NOT_FOUND, "02": InquiryOutcome.NOT_SET,
                       "09": InquiryOutcome.SERVER_ERROR}


@dataclass(frozen=True)
class Candidate:
    """What eligibility needs to know of one (filing, person)."""

    current: bool
    has_number: bool
    has_integrated_number: bool
    consent: bool
    suspended: bool = False  # a handled use-suspension request, not lifted (seed V-1)
    reacquiring: bool = False  # the integrated number is marked for re-acquisition (number changed)


def exclusion(candidate: Candidate, permitted: dict[str, bool], already: set[str]) -> tuple[list[str], Exclusion | None]:
    """The information codes to request for one (filing, person) and, when none, the reason.

    ``permitted``: {information code: requires consent} for the person's 住宅区分 and the procedure;
    ``already``: codes requested before (open or answered) for this filing and person.
    """
    if candidate.suspended:
        return [], Exclusion.SUSPENDED
    if not permitted:
        return [], Exclusion.NOT_PERMITTED
    if not candidate.current:
        return [], Exclusion.NOT_CURRENT
    if not candidate.has_number:
        return [], Exclusion.NO_NUMBER
    if not candidate.has_integrated_number:
        return [], Exclusion.NO_INTEGRATED_NUMBER
    if candidate.reacquiring:
        return [], Exclusion.REACQUIRING
    allowed = [code for code, needs_consent in sorted(permitted.items()) if candidate.consent or not needs_consent]
    if not allowed:
        return [], Exclusion.NO_CONSENT
    todo = [code for code in allowed if code not in already]
    return todo, (None if todo else Exclusion.ALREADY_REQUESTED)


def contact_information(permitted: dict[str, bool]) -> dict[str, bool]:
    """The part of ``permitted`` that needs no consent (連絡先等情報, seed II-3 ⑧): what may be asked about
    a household member (同一住所の者) of a filer."""
    return {code: needs for code, needs in permitted.items() if not needs}


def info_kind(info_code: str) -> str:
    """The last two digits of a TM code, which name the kind of information (INFO_ITEMS)."""
    return info_code[-2:]


def parse_result_data(info_code: str, text: str) -> dict[str, str] | None:
    """The items of a 00 answer, or ``None`` when they are not exactly the items of ``info_code``."""
    items = INFO_ITEMS.get(info_kind(info_code))
    if items is None:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or set(data) != set(items):
        return None
    if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in data.values()):
        return None
    return {k: str(v) for k, v in data.items()}


def decide(*, malformed: bool, result_code: str, data_ok: bool, request_open: bool | None, same_person: bool,
           same_information: bool) -> InquiryOutcome:
    """The one outcome of an inquiry-result row (module docstring)."""
    outcome = RESULT_CODES.get(result_code)
    if malformed or outcome is None or (outcome is InquiryOutcome.OK and not data_ok):
        return InquiryOutcome.MALFORMED
    if request_open is None:
        return InquiryOutcome.UNKNOWN_REQUEST
    if not request_open:
        return InquiryOutcome.ALREADY_ANSWERED
    if not same_person:
        return InquiryOutcome.OTHER_PERSON
    if not same_information:
        return InquiryOutcome.OTHER_INFORMATION
    return outcome


@dataclass(frozen=True)
class Held:
    """What the register holds about the person, for the comparisons."""

    name: str
    relationship: str  # 続柄 code 01–05
    head_name: str  # the name of the household's head (続柄 01), "" if unknown
    dependants: int  # household members with 続柄 03 or 04


def discrepancies(info_code: str, data: dict[str, str], held: Held) -> list[str]:
    """Japanese descriptions of where an answer disagrees with the register (empty: it agrees)."""
    kind = info_kind(info_code)
    found: list[str] = []
    if kind == "02":
        if held.head_name and kanji_key(data["世帯主氏名"]) != kanji_key(held.head_name):
            found.append("住民票の世帯主氏名が届出の世帯主と異なります")
        if data["続柄"] not in RELATIONSHIPS.get(held.relationship, ()):
            found.append("住民票の続柄が届出の続柄と異なります")
    elif kind == "07":
        if data["氏名変更の有無"] == "1" and kanji_key(data["変更後氏名"]) != kanji_key(held.name):
            found.append("戸籍上の氏名変更が届出されていません")
    elif (kind == "01" and held.relationship == "01" and data["課税区分"] == "1"
          and data["扶養親族数"].isascii() and data["扶養親族数"].isdigit()
          and int(data["扶養親族数"]) != held.dependants):
        found.append("課税上の扶養親族数が届出の世帯構成と異なります")
    return found


# --- 結果データ as a person reads it (disclosure report, seed V-1) ----------------------------------

#: Labels of the coded items of 結果データ (interfaces.md, inquiry-result).
ITEM_CODES: Final[dict[str, dict[str, str]]] = {
    "課税区分": {"1": "課税", "2": "非課税", "3": "未申告"},
    "受給状況": {"0": "なし", "1": "受給中", "2": "廃止"},
    "手帳有無": {"0": "なし", "1": "あり"},
    "氏名変更の有無": {"0": "なし", "1": "あり"},
    "婚姻状況": {"1": "未婚", "2": "婚姻", "3": "離別", "4": "死別"},
}
_YEN: Final = frozenset({"総所得金額等", "給与収入額", "公的年金等収入額", "所得割額", "均等割額"})
_DAYS: Final = frozenset({"開始日", "廃止日", "交付日", "有効期限", "変更年月日"})
_UNITS: Final = {"扶養親族数": "人", "障害等級": "級", "障害程度": "度", "課税年度": "年度"}
_DATE_DIGITS: Final = 8


def item_text(item: str, value: str) -> str:
    """One item of 結果データ in words: codes by their label, amounts in yen, dates as YYYY-MM-DD.
    A value that does not fit its item is shown as it came (the person must see what is held)."""
    if value == "":
        return "—"
    if item in ITEM_CODES:
        label = ITEM_CODES[item].get(value)
        return label or value
    if item in _YEN and value.isascii() and value.isdigit():
        return f"{int(value):,}円"
    if item in _DAYS and value.isascii() and value.isdigit() and len(value) == _DATE_DIGITS:
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    if item in _UNITS and value.isascii() and value.isdigit():
        return f"{int(value)}{_UNITS[item]}"
    return value


def describe(info_code: str, data: dict[str, str]) -> list[tuple[str, str]]:
    """The items of one answer, in the order of its information code, each as (label, text)."""
    items = INFO_ITEMS.get(info_kind(info_code), tuple(sorted(data)))
    return [(item, item_text(item, data.get(item, ""))) for item in items]
