"""Juki-net identity checks (住基ネット 本人確認情報, F3/F5), pure.

A query goes out by My Number; the answer carries Juki-net's 4情報 and the latest change (異動事由). The
outcome of one answer row (ours; docs/outcome-codes.md), lowest applicable code first:

| code | meaning |
|---|---|
| ``OK``  | identity confirmed: 4情報 match the register, no change to report |
| ``D01`` | discrepancy to follow up (identity, move, name change): the person goes on the notice list |
| ``D02`` | deceased (消除:死亡): the person's status becomes 死亡 with the date; data kept, same protection |
| ``N01`` | 該当なし: Juki-net does not know the number — follow up (the registered number may be wrong) |
| ``N09`` | エラー reported by Juki-net |
| ``E00`` | malformed row |
| ``J01`` | 照会番号 unknown |
| ``J02`` | query already answered |
| ``J03`` | the answer's 個人番号 is not the number queried (never applied to anyone) |

The register's data is never overwritten by an answer: moves and name changes are reported, not applied;
only a death changes the person's status (and is recorded with its date in the status history).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from jutaku.domain.japanese import kana_key, kanji_key


class JukiOutcome(StrEnum):
    OK = "OK"
    DISCREPANCY = "D01"
    DECEASED = "D02"
    NOT_FOUND = "N01"
    SERVER_ERROR = "N09"
    MALFORMED = "E00"
    UNKNOWN_QUERY = "J01"
    ALREADY_ANSWERED = "J02"
    OTHER_NUMBER = "J03"


LABELS: Final = {
    "OK": "本人確認済（住基ネットと一致）",
    "D01": "住基ネットの本人確認情報が届出と異なります（要確認）",
    "D02": "住基ネットで死亡による消除が確認されました（状態を死亡に更新）",
    "N01": "住基ネットに該当なし（登録番号の確認が必要）",
    "N09": "住基ネット照会エラー",
    "E00": "項目の形式が不正です",
    "J01": "照会番号が存在しません",
    "J02": "この照会番号には既に回答があります",
    "J03": "回答の個人番号が照会した番号と一致しません",
}
DECEASED_REASON: Final = "消除:死亡"


@dataclass(frozen=True)
class Registered:
    """What the register holds about the queried person."""

    name: str
    kana: str
    birth_date: date
    sex: str
    address: str


@dataclass(frozen=True)
class Answer:
    """The identity fields of a 00 answer (parsed)."""

    name: str
    kana: str
    birth_date: date | None
    sex: str
    address: str
    change: str  # 異動事由
    existing: str  # 現存区分: 1 現存, 2 消除


def discrepancies(held: Registered, answer: Answer) -> list[str]:
    """Fixed Japanese sentences for each way the answer differs from the register (never a quote)."""
    found: list[str] = []
    if (kana_key(answer.kana), answer.birth_date, answer.sex) != (kana_key(held.kana), held.birth_date, held.sex):
        found.append("氏名カナ・生年月日・性別が届出と異なります（登録番号の確認が必要）")
        return found  # not the same person: the rest would only repeat it
    if kanji_key(answer.name) != kanji_key(held.name):
        found.append("氏名が届出と異なります（氏名変更の届出が必要）")
    if answer.existing == "2" and answer.change != DECEASED_REASON:
        found.append("住基ネットで消除されています（転出等）")
    elif _address_key(answer.address) != _address_key(held.address):
        found.append("住所が届出と異なります（転居の届出が必要）")
    return found


def _address_key(address: str) -> str:
    """Addresses compared without spaces and width differences (the register adds the room number)."""
    return kanji_key(address).replace(" ", "").replace("\u3000", "")


def decide(*, malformed: bool, result_code: str, query_open: bool | None, same_number: bool,
           answer: Answer | None, held: Registered | None) -> tuple[JukiOutcome, list[str]]:
    """The outcome of one row and, for ``D01``, the discrepancies."""
    if malformed or result_code not in ("00", "01", "09") or (result_code == "00" and answer is None):
        return JukiOutcome.MALFORMED, []
    if query_open is None:
        return JukiOutcome.UNKNOWN_QUERY, []
    if not query_open:
        return JukiOutcome.ALREADY_ANSWERED, []
    if result_code == "01":
        return JukiOutcome.NOT_FOUND, []
    if result_code == "09":
        return JukiOutcome.SERVER_ERROR, []
    if not same_number or answer is None or held is None:
        return JukiOutcome.OTHER_NUMBER, []
    found = discrepancies(held, answer)
    if not found and answer.existing == "2" and answer.change == DECEASED_REASON:
        return JukiOutcome.DECEASED, []
    return (JukiOutcome.DISCREPANCY, found) if found else (JukiOutcome.OK, [])
