"""A person who already has a data key keeps it: registration encrypts under that key, never a second.

The main process learns that a person has a key from the key insert itself ("unless the person has
one"); these tests make that rare path happen and check what ends up stored. SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from jutaku.accounts.actor import SYSTEM
from jutaku.crypto.envelope import FieldCipher
from jutaku.crypto.models import PersonKey
from jutaku.domain import my_number
from jutaku.registry.models import MyNumberRecord
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.sim.faults import FaultRates
from jutaku.sim.world import WorldSpec, build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys")]


@pytest.mark.parametrize("workers", [0, 1])
def test_a_person_with_a_data_key_gets_the_number_under_that_key(tmp_path: Path, workers: int) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=300, seed=5, rates=FaultRates.uniform(0.0, benign=0.0), kit_share=1.0,
                          portal_share=0.0, truth=False), world)
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    with (world / "kit.csv").open(encoding="utf-8-sig", newline="") as fh:
        notified = sorted(row["個人ID"] for row in csv.DictReader(fh))
    some = notified[:40:3]
    # Give these persons a data key before any number exists (as another encrypted field would).
    FieldCipher().cache.bulk_dek_for(some, create=True)
    before = dict(PersonKey.objects.filter(person_ref__in=some).values_list("person_ref", "wrapped_dek"))
    assert len(before) == len(some)

    result = register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=workers,
                              chunk_size=100)

    assert result.job.counts == {"OK": len(notified)}
    # Still one key per person, and the earlier keys were kept, not replaced.
    assert PersonKey.objects.count() == len(notified)
    after = dict(PersonKey.objects.filter(person_ref__in=some).values_list("person_ref", "wrapped_dek"))
    assert {k: bytes(v) for k, v in after.items()} == {k: bytes(v) for k, v in before.items()}
    # Every stored number decrypts under its person's (only) key, those with an earlier key included.
    stored = list(MyNumberRecord.objects.values_list("person__person_id", "ciphertext"))
    plain = FieldCipher().decrypt_many("registry_mynumberrecord", "my_number",
                                       [(pid, bytes(token)) for pid, token in stored])
    assert len(plain) == len(notified) and all(my_number.is_valid(p.decode("ascii")) for p in plain)
