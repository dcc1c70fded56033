"""Kit rows and portal entries (My Number notifications), with the faults of :mod:`jutaku.sim.faults`.

Every current person notifies by kit (``kit_share``), by portal (``portal_share``) or not at all.
Rows are lists in the layout's column order (``KIT.header`` / ``PORTAL.header``); kit rows are in file
order and portal rows in 受付番号 order, which is the processing order of the answer key.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from jutaku.domain import my_number
from jutaku.formats.layouts import KIT, PORTAL
from jutaku.sim import faults
from jutaku.sim.dates import parse_yyyymmdd, to_wareki, ymd
from jutaku.sim.faults import FaultRates
from jutaku.sim.names import SURNAMES
from jutaku.sim.population import Population

KIT_IDX: Final = {name: i for i, name in enumerate(KIT.header)}
PORTAL_IDX: Final = {name: i for i, name in enumerate(PORTAL.header)}
PORTAL_PROCEDURE: Final = "都営住宅 個人番号届出"
JST: Final = dt.timezone(dt.timedelta(hours=9), "JST")
WAREKI_SHARE: Final = 0.1  # kit rows whose birth date is written 和暦
STANDARD_KANJI_SHARE: Final = 0.5  # kit rows of variant-kanji persons written with the standard form


@dataclass
class Notifications:
    kit: list[list[str]] = field(default_factory=list)
    kit_faults: list[str] = field(default_factory=list)
    portal: list[list[str]] = field(default_factory=list)
    portal_faults: list[str] = field(default_factory=list)


class _Maker:
    def __init__(self, pop: Population, rng: random.Random, rates: FaultRates) -> None:
        self.pop, self.rng, self.rates = pop, rng, rates
        self.out = Notifications()
        self.late_dates: list[tuple[list[str], dict[str, int]]] = []
        self.late_receipts: list[tuple[list[str], str]] = []  # number_in_text: a 受付番号 holding a number
        self.spare = iter(pop.spare_numbers)

    def row(self, i: int, channel: str, number: str | None = None) -> list[str]:
        pop, rng = self.pop, self.rng
        num = pop.numbers[i] if number is None else number
        if channel == "kit":
            name = pop.name[i]
            if rng.random() < STANDARD_KANJI_SHARE:
                name = SURNAMES[pop.surname[i]][0] + name[name.index(" ") :]
            birth = pop.birth[i]
            if rng.random() < WAREKI_SHARE:
                day = parse_yyyymmdd(birth)
                birth = to_wareki(day) if day else birth
            doc = "1" if rng.random() < 0.6 else "2" if rng.random() < 0.6 else "3"
            return ["", Population.person_id(i), name, pop.kana[i], birth, pop.sex[i], num, doc, ""]
        consent = "1" if rng.random() < 0.95 else "0"
        return [
            "", "", PORTAL_PROCEDURE, Population.person_id(i), pop.name[i], pop.kana[i], pop.birth[i],
            pop.sex[i], pop.address[i], num, "JPKI", f"{rng.getrandbits(32):08X}", consent, "0",
        ]  # fmt: skip

    def add(self, row: list[str], channel: str, fault: str) -> None:
        if channel == "kit":
            self.out.kit.append(row)
            self.out.kit_faults.append(fault)
        else:
            self.out.portal.append(row)
            self.out.portal_faults.append(fault)

    def base(self, i: int, channel: str, fault: str, kit_people: list[int]) -> None:
        rng, pop = self.rng, self.pop
        idx = KIT_IDX if channel == "kit" else PORTAL_IDX
        row = self.row(i, channel)
        num = idx["個人番号"]
        if fault == "malformed":
            if faults.malformed(row, idx, rng) == "date":
                self.late_dates.append((row, idx))
        elif fault == "check_digit":
            row[num] = faults.wrong_check_digit(row[num], rng)
        elif fault == "bad_number":
            row[num] = faults.bad_number(row[num], rng)
        elif fault == "unknown_person":
            row[idx["個人ID"]] = str(9_000_000_000 + rng.randrange(10**9))
        elif fault == "identity":
            self._identity(row, idx)
        elif fault == "other_number":
            # Sent by portal with the number of a person who notified by kit: E04 once that kit row registered.
            other = kit_people[rng.randrange(len(kit_people))] if kit_people else i
            row = self.row(i, "portal", pop.numbers[other if other != i else (i + 1) % len(pop)])
            channel = "portal"
        elif fault == "other_registered":
            # Kit first: a kit row with another number, then this person's portal row with the true one.
            self.add(self.row(i, "kit", next(self.spare)) if channel == "portal" else row, "kit", fault)
            self.add(self.row(i, "portal", None if channel == "portal" else next(self.spare)), "portal", fault)
            return
        elif fault == "duplicate":
            again = "portal" if channel == "kit" and rng.random() < 0.5 else channel
            self.add(self.row(i, again), again, fault)
        elif fault == "conflict":
            if rng.random() < 0.5:  # the same person with a second number
                self.add(self.row(i, channel, next(self.spare)), channel, fault)
            else:  # another person with this person's number
                other = (i + 1 + rng.randrange(len(pop) - 1)) % len(pop) if len(pop) > 1 else i
                self.add(self.row(other, channel, pop.numbers[i]), channel, fault)
        elif fault == "number_in_text":
            receipt = faults.plant_number(row, idx, channel, row[num], rng)
            if receipt is not None:
                self.late_receipts.append((row, receipt))
        elif fault == "benign":
            row[idx["氏名カナ"]], row[num], _ = faults.benign_variant(row[idx["氏名カナ"]], row[num], rng)
        self.add(row, channel, fault)

    def _identity(self, row: list[str], idx: dict[str, int]) -> None:
        u = self.rng.random()
        if u < 0.5:
            row[idx["氏名カナ"]] = faults.kana_typo(row[idx["氏名カナ"]], self.rng)
        elif u < 0.8:
            row[idx["生年月日"]] = faults.wrong_birth(row[idx["生年月日"]], self.rng)
        else:
            row[idx["性別"]] = "2" if row[idx["性別"]] == "1" else "1"

    def finish(self, year: int) -> Notifications:
        rng, out = self.rng, self.out
        kit = list(zip(out.kit, out.kit_faults, strict=True))
        portal = list(zip(out.portal, out.portal_faults, strict=True))
        rng.shuffle(kit)
        rng.shuffle(portal)
        start = dt.date(year, 4, 1)
        for seq, (row, _) in enumerate(kit, 1):
            row[0] = f"K{year}{seq:08d}"
            row[KIT_IDX["受付日"]] = ymd(start + dt.timedelta(days=seq * 90 // (len(kit) + 1)))
        begin = dt.datetime(year, 4, 1, 8, 30, tzinfo=JST)  # the file carries JST wall-clock time
        step_ms = 60 * 86_400_000 // (len(portal) + 1)
        receipts = portal_receipts(year)
        for seq, (row, _) in enumerate(portal, 1):
            at = begin + dt.timedelta(milliseconds=seq * step_ms + rng.randrange(step_ms))
            row[0] = next(receipts)
            row[1] = at.strftime("%Y%m%d%H%M%S") + f"{at.microsecond // 1000:03d}"
        for row, idx in self.late_dates:
            faults.break_date(row, idx)
        for row, receipt in self.late_receipts:
            row[0] = receipt
        return Notifications(
            [r for r, _ in kit], [f for _, f in kit], [r for r, _ in portal], [f for _, f in portal]
        )


def portal_receipts(year: int) -> Iterator[str]:
    """Mynaportal 受付番号 in increasing order: ``YYYY`` and a sequence, 12 digits, skipping every value
    whose check digit would make it a valid My Number (a 受付番号 that is one is refused, E00; ADR 0020):
    a real 受付番号 is not a My Number, and ours must not be one by chance (one in ten)."""
    for seq in itertools.count(1):
        receipt = f"{year}{seq:08d}"
        if not my_number.is_valid(receipt):
            yield receipt


def build_notifications(
    pop: Population,
    rng: random.Random,
    rates: FaultRates,
    *,
    kit_share: float = 0.7,
    portal_share: float = 0.2,
    non_disclosure_ids: frozenset[str] = frozenset(),
) -> Notifications:
    """Kit rows and portal entries for the population, faults injected at ``rates``."""
    maker = _Maker(pop, rng, rates)
    bases: list[tuple[int, str]] = []
    for i, status in enumerate(pop.status):
        if status == "1":
            u = rng.random()
            if u < kit_share:
                bases.append((i, "kit"))
            elif u < kit_share + portal_share:
                bases.append((i, "portal"))
    kit_people = [i for i, channel in bases if channel == "kit"]
    for i, channel in bases:
        maker.base(i, channel, faults.draw(rates, rng.random()), kit_people)
    not_current = [i for i, status in enumerate(pop.status) if status != "1"]
    if not_current and rates.not_current:
        p = min(1.0, rates.not_current * len(bases) / len(not_current))
        kit_part = kit_share / (kit_share + portal_share) if kit_share + portal_share else 1.0
        for i in not_current:
            if rng.random() < p:
                channel = "kit" if rng.random() < kit_part else "portal"
                maker.add(maker.row(i, channel), channel, "not_current")
    notes = maker.finish(pop.year)
    for row in notes.portal:
        if row[PORTAL_IDX["個人ID"]] in non_disclosure_ids:
            row[PORTAL_IDX["不開示希望"]] = "1"
    return notes
