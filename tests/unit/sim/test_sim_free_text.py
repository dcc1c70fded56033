"""The simulated world and a My Number outside the 個人番号 field (issue 13 item 1, ADR 0020).

Its 受付番号 are never valid My Numbers by chance (a 受付番号 that is one is refused, ``E00``); the
``number_in_text`` fault writes a person's number into a free-text or identifier field, and the answer
key, with its own reading of the rule, expects ``E00`` for it.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

from defusedxml import ElementTree
from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain import my_number
from jutaku.domain.free_text import contains_my_number
from jutaku.sim.answers import holds_number
from jutaku.sim.faults import FaultRates
from jutaku.sim.notifications import portal_receipts
from jutaku.sim.world import WorldSpec, build_world


def test_portal_receipts_are_never_valid_numbers_and_keep_their_order() -> None:
    receipts = [r for r, _ in zip(portal_receipts(2026), range(5000), strict=False)]
    assert receipts == sorted(receipts) and len(set(receipts)) == 5000
    assert all(len(r) == 12 and r.isdigit() and r.startswith("2026") for r in receipts)
    assert not any(my_number.is_valid(r) for r in receipts)
    # About one in ten is skipped: the sequence runs on past 5000.
    assert int(receipts[-1][4:]) > 5400


ALPHABET = "0123456789０１２３４５６７８９ -－ー　\u200baKＰ.:番号"


@given(st.text(alphabet=ALPHABET, max_size=30), st.integers(min_value=0, max_value=10**11 - 1),
       st.text(alphabet=ALPHABET, max_size=10))
def test_the_answer_keys_reading_agrees_with_the_domain_rule(before: str, body: int, after: str) -> None:
    number = my_number.from_body(f"{body:011d}")
    for text in (before, before + number + after, f"{before} {number[:4]}-{number[4:8]}-{number[8:]}{after}"):
        assert holds_number(text) == contains_my_number(text), text


def test_numbers_planted_in_text_are_expected_malformed(tmp_path: Path) -> None:
    rates = FaultRates(**{**FaultRates.uniform(0.0, benign=0.0).as_dict(), "number_in_text": 0.2})
    build_world(WorldSpec(persons=1500, seed=13, rates=rates, truth=False), tmp_path)
    with (tmp_path / "answers.csv").open(encoding="utf-8", newline="") as fh:
        answers = list(csv.DictReader(fh))
    with (tmp_path / "kit.csv").open(encoding="utf-8", newline="") as fh:
        kit = list(csv.DictReader(fh))
    planted = [i for i, row in enumerate(kit) if holds_number(row["氏名"]) or holds_number(row["受付番号"])]
    assert len(planted) > 50
    assert {answers[i]["期待結果"] for i in planted} == {"E00"}
    assert {a["期待結果"] for i, a in enumerate(answers[:len(kit)]) if i not in planted} <= {"OK", "I01", "E07"}
    portal = answers[len(kit):]
    with zipfile.ZipFile(tmp_path / "portal.zip") as zf:
        roots = [ElementTree.fromstring(zf.read(f"{a['受付番号']}.xml")) for a in portal]
    spots = ("申請者/住所", "手続名", "本人確認/電子証明書シリアル番号")
    planted_portal = [any(holds_number(root.findtext(spot) or "") for spot in spots) for root in roots]
    assert sum(planted_portal) > 10
    assert all(a["期待結果"] == "E00" for a, planted_here in zip(portal, planted_portal, strict=True) if planted_here)
