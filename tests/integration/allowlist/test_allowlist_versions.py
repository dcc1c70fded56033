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


# --- packaged versions: the correction ships as a new version (issue 12 item 7) ---------------------

CORRECTED = resources.files("jutaku.data").joinpath("allowlist-v2.csv").read_bytes()


def _sha(data: bytes) -> str:
    from jutaku.formats.allowlist import parse_allowlist

    return parse_allowlist(data).sha256


def test_the_packaged_correction_needs_no_consent_for_resident_record_information_only() -> None:
    from jutaku.formats.allowlist import parse_allowlist

    old = {(r.housing_category, r.procedure_code, r.info_code): r for r in parse_allowlist(PACKAGED).rules}
    new = {(r.housing_category, r.procedure_code, r.info_code): r for r in parse_allowlist(CORRECTED).rules}
    assert set(old) == set(new)
    changed = {key for key in old if old[key] != new[key]}
    assert changed and all(key[2] == "TM99000000000002" for key in changed)
    assert all(not new[key].requires_consent and old[key].requires_consent for key in changed)
    assert not any(r.requires_consent for k, r in new.items() if k[2] == "TM99000000000002")


def test_an_upgrade_moves_an_older_packaged_version_to_the_newest_once_and_never_an_operators_list() -> None:
    from jutaku.allowlist.service import upgrade_packaged

    # A home initialised before the correction: only the first packaged version was ever loaded.
    load_allowlist(PACKAGED, file_name="allowlist.csv (packaged)", actor=SUPERVISOR, note="packaged starting list")
    upgraded = upgrade_packaged(SUPERVISOR)
    assert upgraded is not None and not upgraded.unchanged and upgraded.sha256 == _sha(CORRECTED)
    assert AllowListVersion.objects.get(active=True).sha256 == _sha(CORRECTED)
    load = AuditRecord.objects.filter(event="allowlist:load").order_by("-seq").first()
    assert load is not None and _sha(CORRECTED) in load.detail
    assert upgrade_packaged(SUPERVISOR) is None  # idempotent

    # The operator deliberately goes back to the first list: a later upgrade leaves that decision alone.
    load_allowlist(PACKAGED, file_name="allowlist.csv", actor=SUPERVISOR, note="審査の結果")
    assert upgrade_packaged(SUPERVISOR) is None
    assert AllowListVersion.objects.get(active=True).sha256 == _sha(PACKAGED)


def test_an_upgrade_never_replaces_a_list_the_operator_loaded() -> None:
    from jutaku.allowlist.service import upgrade_packaged

    lines = PACKAGED.decode("utf-8-sig").splitlines()
    own = load_allowlist(("\n".join(lines[:5]) + "\n").encode(), file_name="reviewed.csv", actor=SUPERVISOR)
    assert upgrade_packaged(SUPERVISOR) is None
    assert AllowListVersion.objects.get(active=True).pk == own.version_id


def test_a_new_home_starts_from_the_newest_packaged_version() -> None:
    from jutaku.allowlist.service import upgrade_packaged

    first = upgrade_packaged(SUPERVISOR)
    assert first is not None and first.sha256 == _sha(CORRECTED)
    assert AllowListVersion.objects.count() == 1
