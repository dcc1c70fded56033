"""What a backup's manifest must say before a restore touches anything (jutaku.domain.restore, ADR 0019)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain import restore as rule
from jutaku.domain.restore import Keys, Manifest, RestoreRefused

SHA = "ab" * 32
HELD = Keys("index:00", {1: "kek-0001:aa", 2: "kek-0002:bb"})
KNOWN = {"accounts": {"0001_initial", "0002_more"}, "retention": {"0001_initial"}}


def manifest(**changes: object) -> Manifest:
    base: dict[str, object] = {"sha256": SHA, "size": 100, "vendor": "sqlite", "home_id": "home-a",
                               "keys": Keys("index:00", {1: "kek-0001:aa"}),
                               "migrations": {"accounts": ("0001_initial",), "retention": ("0001_initial",)}}
    return Manifest(**{**base, **changes})  # type: ignore[arg-type]


def code_of(found: RestoreRefused | None) -> str | None:
    return None if found is None else found.code


def check(m: Manifest, home_id: str | None = "home-a") -> str | None:
    return code_of(rule.manifest_refusal(m, home_id=home_id, vendor="sqlite", held=HELD, known=KNOWN))


def test_a_backup_of_this_home_with_an_older_schema_and_held_keys_passes() -> None:
    assert check(manifest()) is None
    assert check(Manifest(sha256=SHA, size=1)) is None  # a catalogue line from before manifests: the copy decides


def test_another_home_another_vendor_a_newer_schema_or_other_keys_are_refused() -> None:
    assert check(manifest(home_id="home-b")) == "R04"
    assert check(manifest(), home_id=None) == "R04"  # this home never wrote a manifest
    assert check(manifest(vendor="postgresql")) == "R05"
    assert check(manifest(migrations={"accounts": ("0003_future",)})) == "R06"
    assert check(manifest(migrations={"elsewhere": ("0001_initial",)})) == "R06"
    assert check(manifest(keys=Keys("index:99", {1: "kek-0001:aa"}))) == "R07"
    assert check(manifest(keys=Keys("index:00", {3: "kek-0003:cc"}))) == "R07"  # retired or never here
    assert check(manifest(keys=Keys("index:00", {2: "kek-0002:zz"}))) == "R07"  # the same version, another key


def test_the_file_must_have_the_manifests_size_then_its_hash() -> None:
    m = manifest()
    assert rule.file_refusal(m, sha256=SHA, size=100) is None
    assert code_of(rule.file_refusal(m, sha256="00" * 32, size=50)) == "R02"
    assert code_of(rule.file_refusal(m, sha256="00" * 32, size=100)) == "R03"


def test_a_manifest_round_trips_through_its_json_form() -> None:
    m = manifest(file="jutaku-x.sqlite3", created_at="2026-01-01T00:00:00+00:00", created_by="op", audit_seq=12)
    assert rule.parse(m.as_json()) == m
    assert rule.parse(Manifest(sha256=SHA, size=3).as_json()) == Manifest(sha256=SHA, size=3)


@pytest.mark.parametrize("data", [
    None, [], {"format": "other"}, {"format": rule.FORMAT}, {"format": rule.FORMAT, "sha256": "x", "bytes": 1},
    {"format": rule.FORMAT, "sha256": SHA, "bytes": "many"},
    {"format": rule.FORMAT, "sha256": SHA, "bytes": 1, "vendor": "oracle"},
    {"format": rule.FORMAT, "sha256": SHA, "bytes": 1, "keys": {"index": "i"}},
    {"format": rule.FORMAT, "sha256": SHA, "bytes": 1, "migrations": ["a"]},
])
def test_a_garbled_manifest_is_refused_with_its_own_code(data: object) -> None:
    with pytest.raises(RestoreRefused) as caught:
        rule.parse(data)
    assert caught.value.code == "R13"


def test_a_refusal_reads_as_its_code_its_rule_and_what_was_found() -> None:
    refusal = RestoreRefused("R02", "8 バイト")
    assert refusal.text == f"[R02] {rule.ERRORS['R02']}: 8 バイト"
    assert str(RestoreRefused("R03")) == f"[R03] {rule.ERRORS['R03']}"


names = st.text(alphabet="0123456789_abc", min_size=1, max_size=6)
schemas = st.dictionaries(st.sampled_from(["accounts", "audit", "jobs"]), st.sets(names, max_size=4), max_size=3)


@given(known=schemas, applied=schemas)
def test_a_schema_is_newer_exactly_when_it_applied_a_migration_the_code_lacks(
        known: dict[str, set[str]], applied: dict[str, set[str]]) -> None:
    unknown = rule.unknown_migrations(applied, known)
    assert unknown == sorted(unknown)
    assert set(unknown) == {f"{a}.{n}" for a, ns in applied.items() for n in ns if n not in known.get(a, set())}
    assert rule.unknown_migrations({a: ns & known.get(a, set()) for a, ns in applied.items()}, known) == []


def test_the_codes_are_documented() -> None:
    page = (Path(__file__).resolve().parents[3] / "docs" / "outcome-codes.md").read_text(encoding="utf-8")
    for code, label in rule.ERRORS.items():
        assert f"| `{code}` | {label} |" in page
