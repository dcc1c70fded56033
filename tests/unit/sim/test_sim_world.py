"""The synthetic world: reproducible, in the exact layouts, with an answer key that matches its faults."""

from __future__ import annotations

import csv
import datetime as dt
import random
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from defusedxml import ElementTree

from jutaku.domain.my_number import check_digit, is_valid, normalise
from jutaku.formats.layouts import KIT, PORTAL, PROCEDURES, TARGETS
from jutaku.sim import faults
from jutaku.sim.answers import read_targets_csv, sim_kana_key
from jutaku.sim.dates import parse_birth, to_wareki
from jutaku.sim.faults import FaultRates
from jutaku.sim.world import ANSWERS_HEADER, WorldSpec, build_world, procedure_codes

FILES = ("targets.csv", "procedures.csv", "kit.csv", "portal.zip", "answers.csv", "world.json")


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    build_world(WorldSpec(persons=3000, seed=7), out)
    return out


def all_bytes(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    build_world(WorldSpec(persons=1500, seed=11), tmp_path / "a")
    build_world(WorldSpec(persons=1500, seed=11), tmp_path / "b")
    build_world(WorldSpec(persons=1500, seed=12), tmp_path / "c")
    a, b, c = all_bytes(tmp_path / "a"), all_bytes(tmp_path / "b"), all_bytes(tmp_path / "c")
    assert a == b
    assert set(FILES) <= set(a) and "truth/juki.csv" in a
    assert a["kit.csv"] != c["kit.csv"] and a["targets.csv"] != c["targets.csv"]


def test_parallel_and_serial_writes_are_identical(tmp_path: Path) -> None:
    build_world(WorldSpec(persons=1200, seed=5), tmp_path / "serial", parallel=False)
    build_world(WorldSpec(persons=1200, seed=5), tmp_path / "forked", parallel=True)
    assert all_bytes(tmp_path / "serial") == all_bytes(tmp_path / "forked")


def test_headers_are_exactly_the_layouts(small_world: Path) -> None:
    assert tuple(read_csv(small_world / "targets.csv")[0]) == TARGETS.header
    assert tuple(read_csv(small_world / "procedures.csv")[0]) == PROCEDURES.header
    assert tuple(read_csv(small_world / "kit.csv")[0]) == KIT.header
    assert tuple(read_csv(small_world / "answers.csv")[0]) == ANSWERS_HEADER


def test_targets_are_households_of_residents_and_applicants(small_world: Path) -> None:
    rows = [dict(zip(TARGETS.header, r, strict=True)) for r in read_csv(small_world / "targets.csv")[1:]]
    assert len(rows) == 3000 and len({r["個人ID"] for r in rows}) == 3000
    assert all(len(r["個人ID"]) == 10 and len(r["郵便番号"]) == 7 for r in rows)
    assert {r["状態"] for r in rows} == {"1", "2", "3", "4"}
    assert {r["住宅区分"] for r in rows} == {"1", "2", "3", "4"}
    assert Counter(r["住宅区分"] for r in rows).most_common(1)[0][0] == "1"
    assert all(bool(r["申込番号"]) == (r["区分"] == "2") for r in rows)
    assert all(r["状態"] != "3" or r["区分"] == "2" for r in rows)
    by_household: dict[str, set[str]] = {}
    for r in rows:
        by_household.setdefault(r["世帯番号"], set()).add(r["住所"])
        assert parse_birth(r["生年月日"]) is not None
    assert all(len(addresses) == 1 for addresses in by_household.values())


def test_procedures_use_permitted_jt_codes_for_the_housing_category(small_world: Path) -> None:
    housing = {r[0]: r[4] for r in read_csv(small_world / "targets.csv")[1:]}
    codes = procedure_codes()
    rows = read_csv(small_world / "procedures.csv")[1:]
    assert rows
    for r in rows:
        assert r[1].startswith("JT") and r[1] in codes[housing[r[5]]].values()
    assert {r[7] for r in rows} <= {"0", "1"} and {r[6] for r in rows} == {"0", "1"}


def test_answer_key_covers_every_row_and_ok_numbers_are_valid(small_world: Path) -> None:
    kit = read_csv(small_world / "kit.csv")[1:]
    answers = read_csv(small_world / "answers.csv")[1:]
    with zipfile.ZipFile(small_world / "portal.zip") as zf:
        names = zf.namelist()
        entries = [ElementTree.fromstring(zf.read(n)) for n in names]
    assert len(answers) == len(kit) + len(entries)
    for (file, line, receipt, pid, code), row in zip(answers, kit, strict=False):
        assert (file, receipt, pid) == ("kit.csv", row[0], row[1]) and line.isdigit()
        if code in ("OK", "I01"):
            assert is_valid(normalise(row[6]))
    for (file, _, receipt, pid, code), root in zip(answers[len(kit) :], entries, strict=True):
        assert (file, receipt, pid) == ("portal.zip", root.findtext("受付番号"), root.findtext("申請者/個人ID"))
        if code in ("OK", "I01"):
            assert is_valid(normalise(root.findtext("個人番号") or ""))


def test_portal_entries_are_well_formed_xml_named_by_their_receipt(small_world: Path) -> None:
    with zipfile.ZipFile(small_world / "portal.zip") as zf:
        names = zf.namelist()
        assert names == sorted(names) and names
        for name in names:
            root = ElementTree.fromstring(zf.read(name))
            assert root.tag == PORTAL.extra["root"]
            assert name == f"{root.findtext('受付番号')}.xml" and name[:-4].isdigit()
            for column in PORTAL.header:
                assert root.find(PORTAL.extra[column]) is not None, column
            stamp = root.findtext("受付日時") or ""
            assert len(stamp) == 17 and stamp.isdigit()


def test_answer_counts_follow_the_requested_rates(tmp_path: Path) -> None:
    rate = 0.01
    summary = build_world(WorldSpec(persons=12_000, seed=3, rates=FaultRates.uniform(rate), truth=False), tmp_path)
    expected = Counter(r[4] for r in read_csv(tmp_path / "answers.csv")[1:])
    assert expected == Counter(summary["counts"]["expected"])
    bases = summary["counts"]["by_status"]["1"] * 0.9  # current persons notifying by kit or portal
    per_code = {"E00": 2, "E01": 2, "E02": 1, "E03": 1, "E04": 1, "E05": 1, "I01": 1, "E07": 1, "E06": 2}
    for code, faults_behind in per_code.items():
        wanted = rate * bases * faults_behind
        assert 0.5 * wanted <= expected[code] <= 2.0 * wanted, (code, expected[code], wanted)


def test_answer_key_agrees_with_a_reread_of_the_files(small_world: Path) -> None:
    from jutaku.sim.answers import expected_outcomes

    targets = read_targets_csv(small_world / "targets.csv")
    rows: list[dict[str, str]] = []
    for r in read_csv(small_world / "kit.csv")[1:]:
        rows.append({"ファイル": "kit.csv", **dict(zip(KIT.header, r, strict=True))})
    with zipfile.ZipFile(small_world / "portal.zip") as zf:
        for name in sorted(zf.namelist()):
            root = ElementTree.fromstring(zf.read(name))
            rows.append({"ファイル": "portal.zip", **{c: root.findtext(PORTAL.extra[c]) or "" for c in PORTAL.header}})
    answers = [r[4] for r in read_csv(small_world / "answers.csv")[1:]]
    assert expected_outcomes(targets, rows) == answers


def test_a_small_world_is_quick(tmp_path: Path) -> None:
    started = time.perf_counter()
    build_world(WorldSpec(persons=1000, seed=1), tmp_path)
    assert time.perf_counter() - started < 5


def test_fast_check_digit_is_the_domain_check_digit() -> None:
    rng = random.Random(1)
    for _ in range(2000):
        body = f"{rng.randrange(10**11):011d}"
        assert faults.fast_check_digit(body) == check_digit(body)


def test_kana_typos_change_the_key_and_benign_variants_do_not() -> None:
    rng = random.Random(2)
    for kana in ("サトウ ハナコ", "トエイ タロウ", "ゴトウ ユウコ", "コンドウ キヨシ", "ワタナベ ショウタ"):
        for _ in range(30):
            assert sim_kana_key(faults.kana_typo(kana, rng)) != sim_kana_key(kana)
            variant, number, _ = faults.benign_variant(kana, "123456789018", rng)
            assert sim_kana_key(variant) == sim_kana_key(kana) and normalise(number) == "123456789018"


def test_kana_variants_against_the_domain_key() -> None:
    japanese = pytest.importorskip("jutaku.domain.japanese")
    rng = random.Random(3)
    for kana in ("サトウ ハナコ", "トエイ タロウ", "ゴトウ ユウコ"):
        for _ in range(30):
            assert japanese.kana_key(faults.kana_typo(kana, rng)) != japanese.kana_key(kana)
            variant, _, _ = faults.benign_variant(kana, "123456789018", rng)
            assert japanese.kana_key(variant) == japanese.kana_key(kana)


def test_wareki() -> None:
    assert to_wareki(dt.date(1970, 1, 23)) == "S450123"
    assert to_wareki(dt.date(1989, 1, 8)) == "H010108"
    assert to_wareki(dt.date(2019, 5, 1)) == "R010501"
    assert parse_birth("S450123") == dt.date(1970, 1, 23)
    assert parse_birth("H010107") is None and parse_birth("S640107") == dt.date(1989, 1, 7)


def test_fault_rates_are_validated() -> None:
    with pytest.raises(ValueError):
        FaultRates(malformed=1.5)
    with pytest.raises(ValueError):
        FaultRates.uniform(0.2)
