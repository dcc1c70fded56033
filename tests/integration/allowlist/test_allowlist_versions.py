"""The allow-list as reviewed data: versions with who/when/hash, one active, deny by default."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from jutaku.accounts.actor import Actor
from jutaku.allowlist.models import AllowListVersion, AllowRule
from jutaku.allowlist.service import (
    load_allowlist,
    load_allowlist_file,
    permitted_information,
    permitted_procedure_codes,
)
from jutaku.audit.models import AuditRecord
from jutaku.exchange.models import MediaLedgerEntry
from jutaku.formats.errors import FileRejected

pytestmark = [pytest.mark.django_db(transaction=True)]
SUPERVISOR = Actor("sv-tanaka", "10.0.0.5")
PACKAGED = resources.files("jutaku.data").joinpath("allowlist.csv").read_bytes()


def test_nothing_is_permitted_without_an_active_version() -> None:
    assert permitted_procedure_codes() == frozenset()
    assert permitted_information("JT99000000530001") == {}


def test_a_load_records_who_when_and_hash_and_replaces_the_active_version(tmp_path: Path) -> None:
    path = tmp_path / "allowlist.csv"
    path.write_bytes(PACKAGED)
    first = load_allowlist_file(path, actor=SUPERVISOR, note="初版")
    version = AllowListVersion.objects.get(active=True)
    assert (version.pk, version.loaded_by, version.terminal, version.rules) == (
        first.version_id, "sv-tanaka", "10.0.0.5", AllowRule.objects.count())
    assert AuditRecord.objects.filter(event="allowlist:load", username="sv-tanaka").count() == 1
    assert MediaLedgerEntry.objects.filter(interface="allowlist", direction="read").count() == 1
    assert load_allowlist_file(path, actor=SUPERVISOR).unchanged  # same content: no new version

    # A narrower list: only one rule of 収入の申告 for 公営住宅 stays.
    lines = PACKAGED.decode("utf-8-sig").splitlines()
    second = load_allowlist(("\n".join(lines[:2]) + "\n").encode(), file_name="narrow.csv", actor=SUPERVISOR)
    assert AllowListVersion.objects.filter(active=True).get().pk == second.version_id != first.version_id
    assert permitted_procedure_codes() == {"JT99000000530001"}
    assert set(permitted_information("JT99000000530001")) == {"1"}
    assert AllowRule.objects.filter(version_id=first.version_id).exists()  # old versions are kept


def test_a_bad_file_changes_nothing_and_is_in_the_ledger_with_its_code(tmp_path: Path) -> None:
    path = tmp_path / "allowlist.csv"
    path.write_bytes(PACKAGED.replace(b",inferred", b",maybe", 1))
    with pytest.raises(FileRejected) as exc:
        load_allowlist_file(path, actor=SUPERVISOR)
    assert exc.value.code == "R_ALLOWLIST"
    assert not AllowListVersion.objects.exists()
    assert MediaLedgerEntry.objects.get(interface="allowlist").outcome == "R_ALLOWLIST"
