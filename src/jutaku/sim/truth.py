"""The simulator's secret truth: what Juki-net and the other agencies know about each person.

Written under ``truth/`` as UTF-8 CSV keyed by 個人ID (columns in docs/sim.md). The simulated linkage
server and Juki-net answer from these files; the system under test never reads them.
Synthetic data only.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections import Counter
from pathlib import Path
from typing import Final

from jutaku.sim.dates import ymd
from jutaku.sim.names import SURNAMES
from jutaku.sim.population import Population

JUKI: Final = ("個人ID", "個人番号", "住民票コード", "氏名", "氏名カナ", "生年月日", "性別", "住所", "異動事由", "異動年月日", "現存区分")  # fmt: skip
TAX: Final = ("個人ID", "課税年度", "課税区分", "総所得金額等", "給与収入額", "公的年金等収入額", "所得割額", "均等割額", "扶養親族数")  # fmt: skip
RESIDENT: Final = ("個人ID", "世帯主氏名", "続柄")
BENEFIT: Final = ("個人ID", "受給状況", "開始日", "廃止日")
PHYSICAL: Final = ("個人ID", "手帳有無", "障害等級", "交付日")
MENTAL: Final = ("個人ID", "手帳有無", "障害等級", "有効期限")
AI_NO_TECHO: Final = ("個人ID", "手帳有無", "障害程度", "交付日")
KOSEKI: Final = ("個人ID", "氏名変更の有無", "変更後氏名", "婚姻状況", "変更年月日")

#: Juki-net differences from the register for current persons (shares of persons).
JUKI_MOVED: Final = 0.01  # 修正:転居 (new address in Tokyo)
JUKI_MOVED_OUT: Final = 0.003  # 消除:転出
JUKI_DECEASED: Final = 0.005  # 消除:死亡, not yet in the register
NAME_CHANGED: Final = 0.003  # 修正:氏名変更 (new surname)
_RELATION: Final = {"01": "世帯主", "03": "子", "05": "縁故者"}


class _Files:
    """Buffered csv writers, one per truth file."""

    def __init__(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.handles = []
        self.writers = {}
        self.counts: Counter[str] = Counter()
        for name, header in (
            ("juki", JUKI), ("tax", TAX), ("resident_record", RESIDENT), ("public_assistance", BENEFIT),
            ("support_benefit", BENEFIT), ("disability_physical", PHYSICAL), ("disability_mental", MENTAL),
            ("ai_no_techo", AI_NO_TECHO), ("koseki", KOSEKI),
        ):  # fmt: skip
            fh = (out / f"{name}.csv").open("w", encoding="utf-8", newline="", buffering=1 << 20)
            self.handles.append(fh)
            self.writers[name] = csv.writer(fh, lineterminator="\n")
            self.writers[name].writerow(header)

    def write(self, name: str, row: tuple[object, ...]) -> None:
        self.writers[name].writerow(row)
        self.counts[name] += 1

    def close(self) -> None:
        for fh in self.handles:
            fh.close()


def _tax(rng: random.Random, age: int, year: int, dependants: int) -> tuple[object, ...]:
    if age < 16:
        return (year, "2", 0, 0, 0, 0, 0, 0)
    if rng.random() < 0.05:
        return (year, "3", 0, 0, 0, 0, 0, 0)
    salary = rng.randrange(0, 6_000_000, 1000) if 18 <= age < 65 and rng.random() < 0.7 else 0
    pension = rng.randrange(600_000, 3_000_000, 1000) if age >= 65 else 0
    income = max(0, salary - max(550_000, salary * 3 // 10)) + max(0, pension - 1_100_000)
    taxable = income - 430_000 - 330_000 * dependants
    if income <= 450_000 + 350_000 * dependants:
        return (year, "2", income, salary, pension, 0, 0, dependants)
    return (year, "1", income, salary, pension, max(0, taxable) // 1000 * 100, 5000, dependants)


def write_truth(pop: Population, rng: random.Random, out: Path) -> dict[str, int]:
    """Write every truth file; return rows per file."""
    files = _Files(out)
    today = dt.date(pop.year, 4, 1)
    codes = rng.sample(range(10**10, 10**11), len(pop))
    try:
        for start, end in pop.households:
            _household(pop, rng, files, codes, today, start, end)
    finally:
        files.close()
    return dict(files.counts)


def _household(
    pop: Population, rng: random.Random, files: _Files, codes: list[int], today: dt.date, start: int, end: int
) -> None:
    year = pop.year
    head_name = pop.name[start]
    dependants = sum(1 for i in range(start + 1, end) if pop.zokugara[i] in ("03", "04"))
    assisted = pop.kubun[start] == "1" and rng.random() < 0.12
    support = rng.random() < 0.002
    for i in range(start, end):
        pid = Population.person_id(i)
        age = year - int(pop.birth[i][:4])
        name, kana, address = pop.name[i], pop.kana[i], pop.address[i]
        reason, when, exists = ("記載:出生" if rng.random() < 0.2 else "記載:転入"), pop.status_date[i], "1"
        status, u = pop.status[i], rng.random()
        changed = ("0", "", "")
        if status == "4":
            reason, exists = "消除:死亡", "2"
        elif status == "2":
            if rng.random() < 0.6:
                street = pop.address[rng.randrange(len(pop))].split(" ")[0]
                reason, address = "修正:転居", f"{street} 民間アパート{rng.randint(101, 309)}号室"
            else:
                reason, exists = "消除:転出", "2"
        elif status == "1" and u < JUKI_DECEASED:
            reason, exists, when = "消除:死亡", "2", ymd(today - dt.timedelta(days=rng.randrange(1, 120)))
        elif status == "1" and u < JUKI_DECEASED + JUKI_MOVED:
            reason, when = "修正:転居", ymd(today - dt.timedelta(days=rng.randrange(1, 200)))
            address = address.split(" ")[0] + f" コーポ{rng.randint(1, 9)}号{rng.randint(101, 309)}号室"
        elif status == "1" and u < JUKI_DECEASED + JUKI_MOVED + JUKI_MOVED_OUT:
            reason, exists, when = "消除:転出", "2", ymd(today - dt.timedelta(days=rng.randrange(1, 200)))
        elif status == "1" and age >= 18 and u < JUKI_DECEASED + JUKI_MOVED + JUKI_MOVED_OUT + NAME_CHANGED:
            when = ymd(today - dt.timedelta(days=rng.randrange(1, 300)))
            kanji, s_kana, _, _ = SURNAMES[(pop.surname[i] + 1 + rng.randrange(len(SURNAMES) - 1)) % len(SURNAMES)]
            name = kanji + name[name.index(" ") :]
            kana = s_kana + kana[kana.index(" ") :]
            reason, changed = "修正:氏名変更", ("1", name, when)
        files.write("juki", (
            pid, pop.numbers[i], codes[i], name, kana, pop.birth[i], pop.sex[i], address, reason, when, exists,
        ))  # fmt: skip
        files.write("tax", (pid, *_tax(rng, age, year, dependants if pop.zokugara[i] == "01" else 0)))
        role = pop.zokugara[i]
        relation = (
            ("妻" if pop.sex[i] == "2" else "夫") if role == "02"
            else ("母" if pop.sex[i] == "2" else "父") if role == "04"
            else _RELATION[role]
        )  # fmt: skip
        files.write("resident_record", (pid, head_name, relation))
        marital = "2" if role in ("01", "02") and end - start > 1 and age >= 18 else (
            "1" if age < 30 else rng.choice("1344")
        )
        if changed[0] == "1":
            marital = "2"
        files.write("koseki", (pid, changed[0], changed[1], marital, changed[2]))
        if assisted or support:
            since = today - dt.timedelta(days=rng.randrange(30, 3650))
            ended = ymd(since + dt.timedelta(days=rng.randrange(1, 30))) if rng.random() < 0.15 else ""
            files.write("public_assistance" if assisted else "support_benefit",
                        (pid, "2" if ended else "1", ymd(since), ended))  # fmt: skip
        if rng.random() < (0.15 if age >= 65 else 0.03):
            files.write("disability_physical", (pid, "1", rng.randint(1, 6), ymd(_issued(rng, today))))
        if age >= 15 and rng.random() < 0.02:
            expires = today + dt.timedelta(days=rng.randrange(1, 730))
            files.write("disability_mental", (pid, "1", rng.randint(1, 3), ymd(expires)))
        if rng.random() < 0.01:
            files.write("ai_no_techo", (pid, "1", rng.randint(1, 4), ymd(_issued(rng, today))))


def _issued(rng: random.Random, today: dt.date) -> dt.date:
    return today - dt.timedelta(days=rng.randrange(30, 9000))

