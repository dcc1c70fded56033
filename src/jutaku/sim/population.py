"""Households and persons of the synthetic Tokyo (synthetic data only: no real person, no real number).

Columns are plain lists indexed by person (``個人ID = FIRST_PERSON_ID + index``) so a million persons
fit in memory and are written without per-row objects.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Final

from jutaku.sim.dates import ymd
from jutaku.sim.faults import fast_check_digit
from jutaku.sim.names import FEMALE_GIVEN, KANJI_DIGITS, MALE_GIVEN, PLACES, SURNAMES


def _valid12(code: str) -> bool:
    """The digits of ``code`` are twelve with a valid My Number check digit."""
    digits = code.replace("-", "")
    return len(digits) == 12 and fast_check_digit(digits[:11]) == digits[11]

FIRST_PERSON_ID: Final = 1_000_000_001
FIRST_HOUSEHOLD: Final = 500_000_001

HOUSING_WEIGHTS: Final = (("1", 85), ("2", 5), ("3", 4), ("4", 6))
SIZE_WEIGHTS: Final = ((1, 35), (2, 30), (3, 15), (4, 12), (5, 6), (6, 2))
APPLICANT_SHARE: Final = 0.15
MOVED_OUT_SHARE: Final = 0.05  # resident households, 状態 2
WITHDRAWN_SHARE: Final = 0.15  # applicant households, 状態 3
DECEASED_SHARE: Final = 0.025  # persons, 状態 4 (weighted to the old)
VARIANT_KANJI_SHARE: Final = 0.3


@dataclass
class Population:
    """Column lists, one entry per person; ``household`` lists the (start, end) slice of each household."""

    year: int
    kubun: list[str] = field(default_factory=list)
    household_no: list[str] = field(default_factory=list)
    zokugara: list[str] = field(default_factory=list)
    housing: list[str] = field(default_factory=list)
    housing_code: list[str] = field(default_factory=list)
    application_no: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    kana: list[str] = field(default_factory=list)
    birth: list[str] = field(default_factory=list)
    sex: list[str] = field(default_factory=list)
    postal: list[str] = field(default_factory=list)
    address: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    status_date: list[str] = field(default_factory=list)
    surname: list[int] = field(default_factory=list)  # index into SURNAMES
    numbers: list[str] = field(default_factory=list)  # the true 個人番号 of each person
    spare_numbers: list[str] = field(default_factory=list)  # valid numbers of nobody (for faults)
    households: list[tuple[int, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.kana)

    @staticmethod
    def person_id(index: int) -> str:
        return str(FIRST_PERSON_ID + index)

    def targets_row(self, i: int) -> tuple[str, ...]:
        """The row of targets.csv (TARGETS layout order)."""
        return (
            str(FIRST_PERSON_ID + i), self.kubun[i], self.household_no[i], self.zokugara[i], self.housing[i],
            self.housing_code[i], self.application_no[i], self.name[i], self.kana[i], self.birth[i],
            self.sex[i], self.postal[i], self.address[i], self.status[i], self.status_date[i],
        )  # fmt: skip


def _cum(weights: tuple[tuple[object, int], ...]) -> list[int]:
    return list(accumulate(w for _, w in weights))


def valid_numbers(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct valid synthetic My Numbers."""
    return [f"{b:011d}" + fast_check_digit(f"{b:011d}") for b in rng.sample(range(10**11), count)]


class _Builder:
    def __init__(self, rng: random.Random, year: int) -> None:
        self.rng = rng
        self.pop = Population(year=year)
        self.today = dt.date(year, 4, 1)
        self.sur_cum = _cum(tuple((s, w) for s, _, w, _ in SURNAMES))
        self.housing_cum = _cum(HOUSING_WEIGHTS)
        self.size_cum = _cum(SIZE_WEIGHTS)
        self.places = [(ward, prefix, town, t) for ward, prefix, towns in PLACES for t, town in enumerate(towns)]

    def _date_between(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=int(self.rng.random() * max(1, (end - start).days)))

    def _birth(self, age: int) -> dt.date:
        year = self.today.year - max(0, age) - 1
        return dt.date(year, 1, 1) + dt.timedelta(days=int(self.rng.random() * 365))

    def _address(self, applicant: bool) -> tuple[str, str, str]:
        rng = self.rng
        r = rng.random
        ward, prefix, town, t = self.places[int(r() * len(self.places))]
        chome = 1 + int(r() * 5)
        ban, go = 1 + int(r() * 30), 1 + int(r() * 20)
        room = (1 + int(r() * 14)) * 100 + 1 + int(r() * 12)
        postal = f"{prefix:03d}{(t + 1) * 100 + chome * 10:04d}"
        street = f"東京都{ward}{town}{KANJI_DIGITS[chome]}丁目{ban}番{go}号"
        if applicant:
            return f"{street} {room}号室", postal, f"B{prefix:03d}{t:02d}-{room:04d}"
        bldg = 1 + int(r() * 12)
        code = f"{prefix:03d}{t:02d}{chome}-{bldg:02d}-{room:04d}"
        while _valid12(code):  # 12 digits: never a valid My Number by chance (ADR 0020)
            room += 1
            code = f"{prefix:03d}{t:02d}{chome}-{bldg:02d}-{room:04d}"
        address = f"{street} 都営{town}{KANJI_DIGITS[chome]}丁目アパート{bldg}号棟{room}号室"
        return address, postal, code

    def _roles(self, size: int) -> list[str]:
        rng = self.rng
        roles = ["01"]
        if size >= 2 and rng.random() < 0.7:
            roles.append("02")
        while len(roles) < size:
            u = rng.random()
            roles.append("03" if u < 0.85 else "04" if u < 0.95 else "05")
        return roles

    def household(self, h: int, remaining: int) -> None:
        rng, pop = self.rng, self.pop
        size = min(remaining, rng.choices(SIZE_WEIGHTS, cum_weights=self.size_cum)[0][0])
        housing = rng.choices(HOUSING_WEIGHTS, cum_weights=self.housing_cum)[0][0]
        applicant = rng.random() < APPLICANT_SHARE
        address, postal, code = self._address(applicant)
        app_no = f"{pop.year}-{h:07d}" if applicant else ""
        hh_status = "1"
        if applicant and rng.random() < WITHDRAWN_SHARE:
            hh_status = "3"
        elif not applicant and rng.random() < MOVED_OUT_SHARE:
            hh_status = "2"
        since = (
            self._date_between(self.today - dt.timedelta(days=300), self.today - dt.timedelta(days=30))
            if applicant
            else self._date_between(dt.date(1975, 4, 1), self.today - dt.timedelta(days=60))
        )
        hh_date = ymd(self._date_between(since, self.today)) if hh_status != "1" else ymd(since)
        sur = rng.choices(range(len(SURNAMES)), cum_weights=self.sur_cum)[0]
        variant = bool(SURNAMES[sur][3]) and rng.random() < VARIANT_KANJI_SHARE
        head_age = min(95, 22 + int(73 * rng.random() ** (0.7 if size == 1 else 1.3)))
        head_sex = "2" if rng.random() < (0.6 if size == 1 else 0.35) else "1"
        start = len(pop)
        for role in self._roles(size):
            self._person(role, head_age, head_sex, sur, variant)
            pop.kubun.append("2" if applicant else "1")
            pop.household_no.append(str(FIRST_HOUSEHOLD + h))
            pop.housing.append(housing)
            pop.housing_code.append(code)
            pop.application_no.append(app_no)
            pop.postal.append(postal)
            pop.address.append(address)
            age = self.today.year - int(pop.birth[-1][:4])
            if hh_status == "1" and rng.random() < DECEASED_SHARE * (3.0 if age >= 70 else 0.3):
                pop.status.append("4")
                pop.status_date.append(ymd(self._date_between(self.today - dt.timedelta(days=700), self.today)))
            else:
                pop.status.append(hh_status)
                pop.status_date.append(hh_date)
        pop.households.append((start, len(pop)))

    def _person(self, role: str, head_age: int, head_sex: str, sur: int, variant: bool) -> None:
        rng, pop = self.rng, self.pop
        r = rng.random
        other_sex = "1" if r() < 0.5 else "2"
        if role == "01":
            age, sex = head_age, head_sex
        elif role == "02":
            age, sex = max(18, head_age - 6 + int(r() * 13)), "1" if head_sex == "2" else "2"
        elif role == "03":
            age, sex = max(0, head_age - 20 - int(r() * 23)), other_sex
        elif role == "04":
            age, sex = min(105, head_age + 22 + int(r() * 14)), other_sex
        else:
            age, sex = max(0, head_age - 15 + int(r() * 31)), other_sex
        own_sur = sur
        if (role == "05" and rng.random() < 0.5) or (role == "02" and rng.random() < 0.05):
            own_sur = rng.choices(range(len(SURNAMES)), cum_weights=self.sur_cum)[0]
            variant = False
        kanji, s_kana, _, alt = SURNAMES[own_sur]
        table = MALE_GIVEN if sex == "1" else FEMALE_GIVEN
        given = table[int(r() * len(table))]
        pop.zokugara.append(role)
        pop.name.append(f"{alt if variant and alt else kanji} {given[0]}")
        pop.kana.append(f"{s_kana} {given[1]}")
        pop.birth.append(ymd(self._birth(age)))
        pop.sex.append(sex)
        pop.surname.append(own_sur)


def build_population(rng: random.Random, persons: int, *, year: int, spare: int) -> Population:
    """``persons`` persons in households of 1–6; numbers unique and valid; ``spare`` unused numbers."""
    builder = _Builder(rng, year)
    h = 0
    while len(builder.pop) < persons:
        builder.household(h, persons - len(builder.pop))
        h += 1
    pop = builder.pop
    numbers = valid_numbers(rng, persons + spare)
    pop.numbers, pop.spare_numbers = numbers[:persons], numbers[persons:]
    return pop
