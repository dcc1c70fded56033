"""Outcomes of linkage-result rows (団体内統合利用番号 取得結果), pure.

interfaces.md fixes the file and its 結果コード (``0`` 正常, ``1`` 該当なし, ``9`` エラー) and says that a
result whose id is unknown, already answered, or not for the request's person is an error for that row,
never applied to another person. The row outcome codes below are ours (docs/outcome-codes.md);
the lowest applicable code wins, as for registration:

| code | meaning |
|---|---|
| ``OK``  | integrated number stored (or the person already had this same number) |
| ``N01`` | the server found no integrated number (該当なし): the request is closed, follow up |
| ``N09`` | the server reported an error for the request: the request is closed, follow up |
| ``E00`` | malformed row (field error, or 結果コード 0 without a 15-digit number) |
| ``L01`` | 要求番号 unknown |
| ``L02`` | request already answered (earlier file, or earlier row of this file) |
| ``L03`` | 個別業務システム利用番号 is not the request's person |
| ``L04`` | the integrated number belongs to another person |
| ``L05`` | the person already has a different integrated number |
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class LinkageOutcome(StrEnum):
    OK = "OK"
    NOT_FOUND = "N01"
    SERVER_ERROR = "N09"
    MALFORMED = "E00"
    UNKNOWN_REQUEST = "L01"
    ALREADY_ANSWERED = "L02"
    OTHER_PERSON = "L03"
    NUMBER_OF_ANOTHER = "L04"
    PERSON_HAS_OTHER = "L05"


LABELS: Final = {
    "OK": "団体内統合利用番号を登録しました",
    "N01": "該当なし（連携サーバに団体内統合利用番号がありません）",
    "N09": "連携サーバがエラーを返しました",
    "E00": "項目の形式が不正です",
    "L01": "要求番号が存在しません",
    "L02": "この要求番号には既に回答があります",
    "L03": "個別業務システム利用番号が要求の対象者と一致しません",
    "L04": "この団体内統合利用番号は別の対象者に登録されています",
    "L05": "対象者には別の団体内統合利用番号が登録されています",
}
INTEGRATED_NUMBER_DIGITS: Final = 15


def decide(*, malformed: bool, result_code: str, number: str, request_open: bool | None, same_person: bool,
           owner_is_other: bool, person_holds_other: bool) -> LinkageOutcome:
    """The one outcome of a row. ``request_open``: ``None`` when the 要求番号 is unknown, else whether the
    request still awaits its answer. ``owner_is_other``/``person_holds_other`` describe ``number``
    against the integrated numbers held (those stored by earlier rows included)."""
    if malformed or (result_code == "0" and not (len(number) == INTEGRATED_NUMBER_DIGITS and number.isascii()
                                                 and number.isdigit())):
        return LinkageOutcome.MALFORMED
    if request_open is None:
        return LinkageOutcome.UNKNOWN_REQUEST
    if not request_open:
        return LinkageOutcome.ALREADY_ANSWERED
    if not same_person:
        return LinkageOutcome.OTHER_PERSON
    if result_code == "1":
        return LinkageOutcome.NOT_FOUND
    if result_code != "0":
        return LinkageOutcome.SERVER_ERROR
    if owner_is_other:
        return LinkageOutcome.NUMBER_OF_ANOTHER
    if person_holds_other:
        return LinkageOutcome.PERSON_HAS_OTHER
    return LinkageOutcome.OK
