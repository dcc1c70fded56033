"""KEK rotation (CRY-03): everything readable after, new writes on the new KEK, resumable, retire guarded."""

from __future__ import annotations

import stat

import pytest
from django.db import transaction

from jutaku.accounts.actor import SYSTEM
from jutaku.audit.models import AuditRecord
from jutaku.crypto.envelope import FieldCipher
from jutaku.crypto.keyring import KeyRing
from jutaku.crypto.models import PersonKey
from jutaku.crypto.rotation import RetireRefused, inventory, retire_kek, rotate_kek
from jutaku.crypto.store import DbDekStore

from .conftest import refs

pytestmark = pytest.mark.django_db(transaction=True)


def seed(cipher: FieldCipher, n: int) -> tuple[list[str], list[bytes]]:
    people = refs(n)
    with transaction.atomic():
        tokens = cipher.encrypt_many("numbers", "my_number", [(p, p.encode()) for p in people])
    return people, tokens


def test_rotation_rewraps_every_dek_and_keeps_every_token_readable(keyring: KeyRing, cipher: FieldCipher) -> None:
    people, tokens = seed(cipher, 1_200)
    before = dict(PersonKey.objects.values_list("person_ref", "wrapped_dek"))
    result = rotate_kek(actor=SYSTEM, progress=False, chunk_size=500)
    assert (result.to_version, result.new_kek_created, result.rewrapped, result.chunks) == (2, True, 1_200, 3)
    assert result.complete and result.from_versions == (1,)
    assert set(PersonKey.objects.values_list("kek_version", flat=True)) == {2}
    assert not PersonKey.objects.filter(rotated_at__isnull=True).exists()
    after = dict(PersonKey.objects.values_list("person_ref", "wrapped_dek"))
    assert all(bytes(after[p]) != bytes(before[p]) for p in people)
    fresh = FieldCipher(keyring, DbDekStore())
    assert fresh.decrypt_many("numbers", "my_number", list(zip(people, tokens, strict=True))) == [
        p.encode() for p in people
    ]
    assert stat.S_IMODE((keyring.keys_dir / "kek-0002.key").stat().st_mode) == 0o600
    outcomes = list(AuditRecord.objects.filter(event="keys:rotate").values_list("outcome", flat=True))
    assert outcomes == ["started", "ok"]


def test_new_writes_after_rotation_use_the_new_kek(keyring: KeyRing, cipher: FieldCipher) -> None:
    seed(cipher, 10)
    rotate_kek(actor=SYSTEM, progress=False)
    with transaction.atomic():
        token = cipher.encrypt("1999999999", "numbers", "my_number", b"new")
    assert PersonKey.objects.get(person_ref="1999999999").kek_version == 2
    assert FieldCipher(keyring, DbDekStore()).decrypt("1999999999", "numbers", "my_number", token) == b"new"


def test_interrupted_rotation_resumes_and_retire_waits_for_it(keyring: KeyRing, cipher: FieldCipher) -> None:
    people, tokens = seed(cipher, 1_000)
    partial = rotate_kek(actor=SYSTEM, progress=False, chunk_size=300, max_chunks=1)
    assert (partial.rewrapped, partial.remaining, partial.complete) == (300, 700, False)
    with pytest.raises(RetireRefused, match="still wraps 700"):
        retire_kek(1, actor=SYSTEM)
    with pytest.raises(RetireRefused, match="current"):
        retire_kek(2, actor=SYSTEM)
    # Reads keep working half-way: each row is on either KEK.
    fresh = FieldCipher(keyring, DbDekStore())
    assert fresh.decrypt(people[0], "numbers", "my_number", tokens[0]) == people[0].encode()
    assert fresh.decrypt(people[-1], "numbers", "my_number", tokens[-1]) == people[-1].encode()
    resumed = rotate_kek(actor=SYSTEM, progress=False, chunk_size=300)
    assert (resumed.to_version, resumed.new_kek_created, resumed.rewrapped, resumed.complete) == (2, False, 700, True)
    assert keyring.kek_versions == [1, 2]
    assert retire_kek(1, actor=SYSTEM, dry_run=True).exists()
    path = retire_kek(1, actor=SYSTEM)
    assert not path.exists() and keyring.kek_versions == [2]
    assert FieldCipher(keyring, DbDekStore()).decrypt_many(
        "numbers", "my_number", list(zip(people, tokens, strict=True))
    ) == [p.encode() for p in people]
    assert AuditRecord.objects.filter(event="keys:retire").count() == 1
    with pytest.raises(RetireRefused, match="not in"):
        retire_kek(1, actor=SYSTEM)


def test_dry_run_writes_nothing(keyring: KeyRing, cipher: FieldCipher) -> None:
    seed(cipher, 5)
    result = rotate_kek(actor=SYSTEM, progress=False, dry_run=True)
    assert (result.dry_run, result.to_version, result.remaining) == (True, 2, 5)
    assert keyring.kek_versions == [1] and not AuditRecord.objects.filter(event="keys:rotate").exists()


def test_rotation_with_progress_bar_runs(keyring: KeyRing, cipher: FieldCipher) -> None:
    seed(cipher, 50)
    assert rotate_kek(actor=SYSTEM, progress=True, chunk_size=20).chunks == 3


def test_inventory_lists_ids_algorithms_and_dek_counts_without_material(keyring: KeyRing, cipher: FieldCipher) -> None:
    seed(cipher, 30)
    rotate_kek(actor=SYSTEM, progress=False, chunk_size=10, max_chunks=1)
    rows = inventory()
    by_id = {r.key_id.split(":")[0]: r for r in rows}
    assert by_id["kek-0001"].deks == 20 and by_id["kek-0001"].status == "old, in use"
    assert by_id["kek-0002"].deks == 10 and by_id["kek-0002"].status == "current"
    assert by_id["index"].algorithm.startswith("HMAC-SHA-256") and by_id["media"].kind == "media"
    text = repr(rows)
    for key in keyring.all_keys():
        assert key.material.hex() not in text
