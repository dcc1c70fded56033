"""A registered number changes only through the supervisor's change-notification path (issue 4 item 5)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine

from jutaku.accounts.actor import SYSTEM, Actor
from jutaku.accounts.permissions import ROLE_PERMISSIONS, Permission, Role
from jutaku.audit.models import AuditRecord
from jutaku.crypto.envelope import FieldCipher
from jutaku.domain import my_number
from jutaku.registry.models import MyNumberRecord
from jutaku.registry.numbers import NumberChangeRefused, change_number
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.sim.world import WorldSpec, build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys")]

SUPERVISOR = Actor("sv.tanaka", "127.0.0.1", frozenset(ROLE_PERMISSIONS[Role.SUPERVISOR]))
REGISTRAR = Actor("rg.suzuki", "127.0.0.1", frozenset(ROLE_PERMISSIONS[Role.REGISTRAR]))


@pytest.fixture
def registered(tmp_path: Path) -> tuple[str, str]:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=200, seed=31), world)
    import_targets(world / "targets.csv", actor=SYSTEM, progress=False)
    register_numbers(world / "kit.csv", source="kit", actor=SYSTEM, progress=False)
    rec = MyNumberRecord.objects.select_related("person").first()
    assert rec is not None
    pid = rec.person.person_id
    return pid, FieldCipher().decrypt(pid, "registry_mynumberrecord", "my_number", bytes(rec.ciphertext)).decode()


def test_a_supervisor_changes_a_number_with_a_reason(registered: tuple[str, str]) -> None:
    pid, _ = registered
    new = my_number.from_body("98765432109")
    result = change_number(pid, new, actor=SUPERVISOR, reason="番号変更届（漏えいによる変更）")
    assert result.changed
    rec = MyNumberRecord.objects.get(person__person_id=pid)
    assert rec.source == "change"
    assert FieldCipher().decrypt(pid, "registry_mynumberrecord", "my_number", bytes(rec.ciphertext)).decode() == new
    audit = AuditRecord.objects.filter(event="number:change").get()
    assert audit.object_ids == pid and new not in audit.detail


def test_a_change_made_at_00_30_in_tokyo_is_received_that_day_not_the_day_before_in_utc(
        registered: tuple[str, str]) -> None:
    pid, _ = registered
    with time_machine.travel(datetime(2035, 6, 30, 15, 30, tzinfo=UTC), tick=False):  # 2035-07-01 00:30 JST
        change_number(pid, my_number.from_body("98765432109"), actor=SUPERVISOR, reason="番号変更届")
    assert MyNumberRecord.objects.get(person__person_id=pid).received_date == date(2035, 7, 1)


def test_the_registrar_cannot_change_a_number_and_the_reason_is_required(registered: tuple[str, str]) -> None:
    pid, _ = registered
    assert not REGISTRAR.can(Permission.NUMBERS_CHANGE)
    new = my_number.from_body("98765432109")
    with pytest.raises(NumberChangeRefused):
        change_number(pid, new, actor=REGISTRAR, reason="x")
    with pytest.raises(NumberChangeRefused):
        change_number(pid, new, actor=SUPERVISOR, reason="  ")
    assert not MyNumberRecord.objects.filter(source="change").exists()


def test_invalid_or_anothers_number_is_refused_and_the_same_is_a_no_op(registered: tuple[str, str]) -> None:
    pid, current = registered
    other = MyNumberRecord.objects.exclude(person__person_id=pid).select_related("person").first()
    assert other is not None
    others_number = FieldCipher().decrypt(other.person.person_id, "registry_mynumberrecord", "my_number",
                                          bytes(other.ciphertext)).decode()
    bad = current[:11] + str((int(current[11]) + 1) % 10)
    with pytest.raises(NumberChangeRefused) as e01:
        change_number(pid, bad, actor=SUPERVISOR, reason="r")
    assert e01.value.code == "E01"
    with pytest.raises(NumberChangeRefused) as e04:
        change_number(pid, others_number, actor=SUPERVISOR, reason="r")
    assert e04.value.code == "E04"
    assert change_number(pid, current, actor=SUPERVISOR, reason="r").changed is False
    assert not MyNumberRecord.objects.filter(source="change").exists()
