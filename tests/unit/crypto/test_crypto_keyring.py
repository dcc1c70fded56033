"""Key files: created 0600 and exclusively, never overwritten, refused when others may read them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from jutaku.config import ConfigurationError
from jutaku.crypto import keyring as kr
from jutaku.crypto.keyring import KeyFileError, KeyRing, initialise_keys


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_initialise_creates_three_keys_with_mode_0600(tmp_path: Path) -> None:
    created = initialise_keys(tmp_path / "keys")
    names = sorted(Path(p).name for p in created)
    assert names == ["index.key", "kek-0001.key", "media.key"]
    for p in created:
        assert mode(Path(p)) == 0o600
    assert mode(tmp_path / "keys") == 0o700


def test_initialise_is_idempotent_and_keeps_existing_keys(keys_dir: Path) -> None:
    before = {p.name: p.read_bytes() for p in keys_dir.iterdir()}
    assert initialise_keys(keys_dir) == []
    assert {p.name: p.read_bytes() for p in keys_dir.iterdir()} == before


def test_initialise_recreates_only_a_missing_key(keys_dir: Path) -> None:
    kek = (keys_dir / "kek-0001.key").read_bytes()
    (keys_dir / "media.key").unlink()
    assert [Path(p).name for p in initialise_keys(keys_dir)] == ["media.key"]
    assert (keys_dir / "kek-0001.key").read_bytes() == kek


def test_keys_are_32_random_bytes_and_distinct(keyring: KeyRing) -> None:
    materials = [k.material for k in keyring.all_keys()]
    assert all(len(m) == 32 for m in materials)
    assert len(set(materials)) == 3


@pytest.mark.parametrize("bad_mode", [0o644, 0o640, 0o604, 0o660])
def test_group_or_world_readable_key_is_refused(keys_dir: Path, bad_mode: int) -> None:
    os.chmod(keys_dir / "index.key", bad_mode)
    with pytest.raises(KeyFileError, match=r"index.key has mode 0.*group or others"):
        KeyRing.load(keys_dir)


def test_missing_key_in_production_stops_with_a_clear_message(keys_dir: Path) -> None:
    (keys_dir / "media.key").unlink()
    with pytest.raises(ConfigurationError, match=r"media\.key missing .* refuses to start"):
        KeyRing.load(keys_dir, production=True)


def test_partly_missing_keys_stop_outside_production_too(keys_dir: Path) -> None:
    (keys_dir / "kek-0001.key").unlink()
    with pytest.raises(ConfigurationError, match=r"kek-NNNN\.key"):
        KeyRing.load(keys_dir, production=False)


def test_empty_keys_dir_is_initialised_outside_production_only(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        KeyRing.load(tmp_path / "prod", production=True)
    ring = KeyRing.load(tmp_path / "demo", production=False)
    assert ring.current_kek_version == 1


def test_malformed_key_file_is_refused(keys_dir: Path) -> None:
    path = keys_dir / "index.key"
    os.chmod(path, 0o600)
    path.write_bytes(b"not base64 at all!!\n")
    with pytest.raises(KeyFileError, match="malformed"):
        KeyRing.load(keys_dir)


def test_symlinked_key_file_is_refused(keys_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.key"
    (keys_dir / "index.key").rename(target)
    (keys_dir / "index.key").symlink_to(target)
    with pytest.raises(KeyFileError, match="cannot be opened"):
        KeyRing.load(keys_dir)


def test_repr_shows_key_ids_never_material(keyring: KeyRing) -> None:
    text = repr(keyring) + str(keyring) + "".join(repr(k) + str(k) for k in keyring.all_keys())
    for key in keyring.all_keys():
        assert key.material.hex() not in text
        assert key.material.hex()[:16] not in text
        assert key.key_id in text
    assert "kek-0001:" in text and "index:" in text and "media:" in text


def test_next_kek_is_written_0600_and_becomes_current(keyring: KeyRing) -> None:
    new = keyring.create_next_kek()
    assert (new.version, keyring.current_kek_version, keyring.kek_versions) == (2, 2, [1, 2])
    assert mode(keyring.keys_dir / "kek-0002.key") == 0o600
    assert KeyRing.load(keyring.keys_dir).current_kek_version == 2


def test_removing_a_kek_deletes_its_file_but_never_the_current(keyring: KeyRing) -> None:
    keyring.create_next_kek()
    with pytest.raises(ValueError, match="current"):
        keyring.remove_kek(2)
    keyring.remove_kek(1)
    assert not (keyring.keys_dir / "kek-0001.key").exists()
    with pytest.raises(KeyFileError, match="KEK version 1 is not in"):
        keyring.kek(1)


def test_kek_file_names_are_bounded() -> None:
    assert kr.kek_file_name(12) == "kek-0012.key"
    with pytest.raises(ValueError, match="out of range"):
        kr.kek_file_name(0)


def test_get_keyring_honours_the_override(keyring: KeyRing) -> None:
    assert kr.get_keyring() is keyring
