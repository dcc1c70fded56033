"""The system's outcome for every kit and portal row equals the simulator's answer key (several seeds).

The answer key (``jutaku.sim.answers``) is an independent implementation of the rules in
interfaces.md; the system under test is ``jutaku.registry``. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from jutaku.accounts.actor import SYSTEM
from jutaku.audit.service import verify
from jutaku.registry.models import ImportRejection, MyNumberRecord
from jutaku.registry.registration import CHUNK_SIZE, register_numbers
from jutaku.registry.targets import import_targets
from jutaku.sim.faults import FaultRates
from jutaku.sim.world import WorldSpec, build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys")]


def system_outcomes(job_id: int, rows: list[dict[str, str]], *, key: str) -> dict[str, str]:
    """Outcome per row key (kit: data row number; portal: 受付番号) as the database records it."""
    rejected = {
        (str(r.line_no - 1) if key == "line" else r.receipt_no): r.code
        for r in ImportRejection.objects.filter(job_id=job_id)
    }
    stored = set(MyNumberRecord.objects.filter(job_id=job_id).values_list("receipt_no", flat=True))
    out = {}
    for row in rows:
        k = row["行番号"] if key == "line" else row["受付番号"]
        out[k] = rejected.get(k) or ("OK" if row["受付番号"] in stored else "I01")
    return out


@pytest.mark.parametrize(("seed", "workers", "chunk", "in_text"), [
    (3, 1, 400, 0.0), (11, 0, CHUNK_SIZE, 0.0), (2026, 1, CHUNK_SIZE, 0.0), (13, 1, 400, 0.03), (14, 0, 400, 0.03)])
def test_every_row_matches_the_answer_key(tmp_path: Path, seed: int, workers: int, chunk: int, in_text: float) -> None:
    """``workers`` 1 prepares kit rows in a second process, 0 in this one: both must agree with the key.
    With 400-row chunks, rows of one conflict or one person fall into different chunks. ``in_text``: the
    rate of rows whose number is also written into a free-text or identifier field (E00, ADR 0020)."""
    world = tmp_path / "world"
    build_world(WorldSpec(persons=1500, seed=seed, rates=FaultRates(number_in_text=in_text)), world)
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    kit = register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=workers,
                           chunk_size=chunk)
    portal = register_numbers(world / "portal.zip", source="portal", actor=SYSTEM, progress=False, chunk_size=chunk)

    with (world / "answers.csv").open(encoding="utf-8-sig", newline="") as fh:
        answers = list(csv.DictReader(fh))
    kit_rows = [a for a in answers if a["ファイル"] == "kit.csv"]
    portal_rows = [a for a in answers if a["ファイル"] == "portal.zip"]

    got_kit = system_outcomes(kit.job.job_id, kit_rows, key="line")
    got_portal = system_outcomes(portal.job.job_id, portal_rows, key="receipt")
    kit_diff = [(a["行番号"], a["期待結果"], got_kit[a["行番号"]]) for a in kit_rows
                if got_kit[a["行番号"]] != a["期待結果"]]
    portal_diff = [(a["受付番号"], a["期待結果"], got_portal[a["受付番号"]]) for a in portal_rows
                   if got_portal[a["受付番号"]] != a["期待結果"]]
    assert kit_diff == [] and portal_diff == []
    # No 受付番号 holding a number was kept, on the records or on the rejections (issue 13 item 1).
    from jutaku.domain.free_text import contains_my_number

    kept = [*ImportRejection.objects.values_list("receipt_no", flat=True),
            *MyNumberRecord.objects.values_list("receipt_no", flat=True)]
    assert not [r for r in kept if contains_my_number(r)]
    assert not in_text or "" in ImportRejection.objects.filter(job_id=kit.job.job_id).values_list("receipt_no", flat=True)
    # The job ledger's counts agree with the rows, and the world exercised every code.
    assert kit.job.counts == dict(Counter(a["期待結果"] for a in kit_rows))
    assert portal.job.counts == dict(Counter(a["期待結果"] for a in portal_rows))
    assert {"OK", "E01", "E03", "E06"} <= set(kit.job.counts) and {"E04", "E05"} <= set(portal.job.counts)
    assert verify().ok
    # Every stored number decrypts to a valid My Number under its person's key.
    from jutaku.crypto.envelope import FieldCipher
    from jutaku.domain import my_number

    stored = list(MyNumberRecord.objects.values_list("person__person_id", "ciphertext")[:200])
    plain = FieldCipher().decrypt_many("registry_mynumberrecord", "my_number",
                                      [(pid, bytes(tok)) for pid, tok in stored])
    assert all(my_number.is_valid(p.decode("ascii")) for p in plain)


def test_rerunning_the_same_file_is_a_reported_no_op(tmp_path: Path) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=300, seed=5), world)
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    first = register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False)
    stored = MyNumberRecord.objects.count()
    again = register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False)
    assert again.job.duplicate and again.job.job_id == first.job.job_id
    assert MyNumberRecord.objects.count() == stored


def test_dry_run_reports_the_same_outcomes_and_changes_nothing(tmp_path: Path) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=300, seed=8), world)
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    dry = register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False, dry_run=True)
    assert MyNumberRecord.objects.count() == 0
    real = register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False)
    assert dry.job.counts == real.job.counts
    assert MyNumberRecord.objects.count() == real.job.counts["OK"]
