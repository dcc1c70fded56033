"""Faults the simulator injects into kit and portal rows, and the rates it injects them at.

Each *base* notification (one person, one channel) draws at most one fault from :class:`FaultRates`.
Mutating faults change the row itself; additive faults add a row (a duplicate, a second number,
a portal row after a kit row). ``not_current`` adds rows for persons who are not current (状態 2/3/4).
The intended outcome is noted per fault; the answer key is nevertheless computed independently by
:func:`jutaku.sim.answers.expected_outcomes`, so an interaction of two faults is still answered right.

Synthetic data only: every random draw here comes from a seeded ``random.Random``.
"""

from __future__ import annotations

import datetime as dt
import operator
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Final

import jaconv

from jutaku.sim.dates import parse_birth, to_wareki, ymd


@dataclass(frozen=True)
class FaultRates:
    """Probability per base notification of each fault (the intended outcome in brackets)."""

    malformed: float = 0.005  # bad date, bad sex code, missing kana [E00]
    check_digit: float = 0.005  # last digit wrong [E01]
    bad_number: float = 0.005  # 11 or 13 digits, or a letter in the number [E01]
    unknown_person: float = 0.005  # 個人ID not in targets [E02]
    identity: float = 0.01  # kana typo, wrong birth date or wrong sex [E03]
    other_number: float = 0.005  # another person's number [E04 after a kit row, E06 in the same file]
    other_registered: float = 0.005  # portal row with a new number after the person's kit row [E05]
    duplicate: float = 0.005  # the same person and number again, same or later file [I01]
    conflict: float = 0.005  # the same person with a second number in the same file [E06 for both]
    not_current: float = 0.005  # a notification from a moved-out/withdrawn/deceased person [E07]
    benign: float = 0.02  # half-width kana, hiragana, 全角空白, ー for ウ, number spacing [OK]
    #: The person's number written into a free-text or identifier field too (氏名, 受付番号, 住所, …) [E00].
    #: Off by default so that the default worlds stay as they were; :meth:`uniform` sets it.
    number_in_text: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"rate {f.name} must be within 0..1")
        if sum(v for k, v in asdict(self).items() if k != "not_current") > 1.0:
            raise ValueError("the per-notification fault rates add up to more than 1")

    @classmethod
    def uniform(cls, rate: float, *, benign: float | None = None) -> FaultRates:
        """Every error fault at ``rate`` (``identity`` too); benign variants at ``benign`` or 2×rate."""
        values = {f.name: rate for f in fields(cls)}  # number_in_text too
        values["benign"] = 2 * rate if benign is None else benign
        return cls(**values)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


#: Exclusive per-base faults in draw order (``not_current`` is drawn separately).
BASE_FAULTS: Final = (
    "malformed",
    "check_digit",
    "bad_number",
    "unknown_person",
    "identity",
    "other_number",
    "other_registered",
    "duplicate",
    "conflict",
    "benign",
    "number_in_text",  # last: at rate 0 it leaves every other draw as it was
)


def draw(rates: FaultRates, u: float) -> str:
    """The fault for a uniform draw ``u`` in [0, 1), or ``""`` for a clean row."""
    acc = 0.0
    for name in BASE_FAULTS:
        acc += getattr(rates, name)
        if u < acc:
            return name
    return ""


# --- kana -------------------------------------------------------------------------------------------

_ROWS: Final = ("アイウエオ", "カキクケコ", "サシスセソ", "タチツテト", "ナニヌネノ", "ハヒフヘホ", "マミムメモ", "ラリルレロ")
_POS: Final = {ch: (r, v) for r, row in enumerate(_ROWS) for v, ch in enumerate(row)}
#: o-row (オ段) kana after which a ウ may be written ー (a benign long-vowel variant).
O_ROW: Final = frozenset("オコソトノホモヨロヲゴゾドボポョ")


def kana_typo(kana: str, rng: random.Random) -> str:
    """Change one consonant (タ→サ): a different person under any matching key.

    Only unvoiced, full-size kana of the ア–ラ rows are changed, into the same vowel of another
    unvoiced row, so width, voicing, small-kana and long-vowel folding cannot undo the typo.
    """
    spots = [i for i, ch in enumerate(kana) if ch in _POS]
    if not spots:  # pragma: no cover - every table name has one
        return kana + "カ"
    i = spots[rng.randrange(len(spots))]
    row, vowel = _POS[kana[i]]
    new_row = rng.choice([r for r in range(1, len(_ROWS)) if r != row])
    return kana[:i] + _ROWS[new_row][vowel] + kana[i + 1 :]


def long_vowel_variant(kana: str) -> str | None:
    """ウ after an オ段 kana written ー (サトウ → サトー); ``None`` when the name has none."""
    for i in range(1, len(kana)):
        if kana[i] == "ウ" and kana[i - 1] in O_ROW:
            return kana[:i] + "ー" + kana[i + 1 :]
    return None


def benign_variant(kana: str, number: str, rng: random.Random) -> tuple[str, str, str]:
    """(kana, number, variant name): the same person written differently (expected ``OK``)."""
    kind = rng.choice(("halfwidth", "hiragana", "ideographic_space", "long_vowel", "number_spacing"))
    if kind == "long_vowel":
        variant = long_vowel_variant(kana)
        if variant is not None:
            return variant, number, kind
        kind = "halfwidth"
    if kind == "halfwidth":
        return jaconv.z2h(kana, kana=True, ascii=False, digit=False), number, kind
    if kind == "hiragana":
        return jaconv.kata2hira(kana), number, kind
    if kind == "ideographic_space":
        return kana.replace(" ", "\u3000"), number, kind
    if rng.random() < 0.5:
        return kana, f"{number[:4]}-{number[4:8]}-{number[8:]}", "number_hyphens"
    return kana, jaconv.h2z(number, digit=True), "number_fullwidth"


# --- numbers and fields ------------------------------------------------------------------------------

_WEIGHTS: Final = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)  # Q(n) for the 11 body digits, left to right
_ASCII_ZERO_TOTAL: Final = ord("0") * sum(_WEIGHTS)


def fast_check_digit(body: str) -> str:
    """Same result as :func:`jutaku.domain.my_number.check_digit` for 11 ASCII digits (hot loop, no checks)."""
    total = (sum(map(operator.mul, body.encode("ascii"), _WEIGHTS)) - _ASCII_ZERO_TOTAL) % 11
    return "0" if total <= 1 else str(11 - total)


def written_number(number: str, rng: random.Random) -> str:
    """``number`` as a person or a clerk might write it in text: plain, 4-4-4, full-width, spaced."""
    kind = rng.randrange(4)
    if kind == 0:
        return number
    if kind == 1:
        return f"{number[:4]}-{number[4:8]}-{number[8:]}"
    wide = jaconv.h2z(number, digit=True)
    return wide if kind == 2 else f"{wide[:4]}\u3000{wide[4:8]}\u3000{wide[8:]}"


#: Where :func:`plant_number` writes: (column, how) per channel; ``receipt`` is done when receipts are assigned.
PLANT_SPOTS: Final = {
    "kit": (("氏名", "append"), ("受付番号", "receipt")),
    "portal": (("住所", "append"), ("手続名", "append"), ("電子証明書シリアル番号", "replace")),
}


def plant_number(row: list[str], idx: Mapping[str, int], channel: str, number: str, rng: random.Random) -> str | None:
    """Write ``number`` into a free-text or identifier field of ``row`` (expected ``E00``); returns the
    written form when it must go into the 受付番号, which is assigned later."""
    column, how = rng.choice(PLANT_SPOTS[channel])
    form = written_number(number, rng)
    if how == "receipt":
        return form if rng.random() < 0.5 else "受付" + form  # a form with a label, still refused
    if how == "append":
        row[idx[column]] = f"{row[idx[column]]} {form}"
    else:
        row[idx[column]] = form if form.isascii() else number
    return None


def wrong_check_digit(number: str, rng: random.Random) -> str:
    bad = (int(number[-1]) + rng.randrange(1, 10)) % 10
    return number[:-1] + str(bad)


def bad_number(number: str, rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return number[:-1]  # 11 digits
    if kind == 1:
        return number + str(rng.randrange(10))  # 13 digits
    i = rng.randrange(12)
    return number[:i] + rng.choice("OIlB") + number[i + 1 :]  # a letter instead of a digit


def wrong_birth(value: str, rng: random.Random) -> str:
    """A different valid birth date in the same notation (YYYYMMDD or 和暦)."""
    day = parse_birth(value)
    assert day is not None  # noqa: S101 - generated by us
    shift = rng.choice((1, -1, 31, 365, -365, 3650))
    new = day + dt.timedelta(days=shift)
    return to_wareki(new) if len(value) == 7 else ymd(new)


def malformed(row: list[str], idx: Mapping[str, int], rng: random.Random) -> str:
    """Break one field so the row is malformed (E00); return what was broken."""
    kind = rng.choice(("birth", "sex", "kana", "date"))
    if kind == "birth":
        row[idx["生年月日"]] = row[idx["生年月日"]][:-4] + "1332" if len(row[idx["生年月日"]]) == 8 else "X450123"
    elif kind == "sex":
        row[idx["性別"]] = rng.choice(("3", "M", ""))
    elif kind == "kana":
        row[idx["氏名カナ"]] = ""
    # "date": the caller breaks the 受付日/受付日時 with :func:`break_date` once it is assigned.
    return kind


def break_date(row: list[str], idx: Mapping[str, int]) -> None:
    """An impossible 受付日 (kit) or 受付日時 (portal)."""
    if "受付日" in idx:
        row[idx["受付日"]] = row[idx["受付日"]][:4] + "0231"
    else:
        row[idx["受付日時"]] = row[idx["受付日時"]][:8] + "256199000"
