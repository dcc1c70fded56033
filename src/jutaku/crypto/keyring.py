"""The key ring: key files in the keys folder, read once, never printed (CRY-02, CRY-03, CRY-05).

Layout of ``keys_dir`` (every file mode 0600, 32 random bytes from :func:`secrets.token_bytes`,
stored as one line of base64):

- ``kek-0001.key``, ``kek-0002.key`` … key-encryption keys (KEK) that wrap the per-person data keys;
  the current KEK is the highest version present.
- ``index.key``: the HMAC-SHA-256 key of the blind index (never used for encryption).
- ``media.key``: the key of encrypted external-media files (FILE-08).

Key material never reaches the database, logs or ``repr``: a :class:`SecretKey` shows only its key id
(name and a one-way fingerprint). See docs/adr/0002-key-design.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jutaku.config import ConfigurationError

KEY_BYTES: Final = 32
INDEX_KEY_FILE: Final = "index.key"
MEDIA_KEY_FILE: Final = "media.key"
_KEK_FILE: Final = re.compile(r"^kek-([0-9]{4})\.key$")
MAX_KEK_VERSION: Final = 9999

ALGORITHMS: Final = {
    "kek": "AES-256-GCM key wrap (per-person DEK, AAD person+version)",
    "index": "HMAC-SHA-256 blind index",
    "media": "AES-256-GCM streaming, 64 KiB chunks",
}


class KeyFileError(ConfigurationError):
    """A key file is missing, malformed or readable by someone else than its owner."""


def kek_file_name(version: int) -> str:
    if not 1 <= version <= MAX_KEK_VERSION:
        raise ValueError(f"KEK version out of range: {version}")
    return f"kek-{version:04d}.key"


@dataclass(frozen=True, eq=False)
class SecretKey:
    """One key: its name, version and creation date are public, its material never prints."""

    name: str
    material: bytes = field(repr=False)
    created_at: datetime
    version: int = 0

    @property
    def kind(self) -> str:
        return "kek" if self.name.startswith("kek-") else self.name

    @property
    def fingerprint(self) -> bytes:
        """Eight bytes derived one-way from the material: identifies the key, reveals nothing."""
        return hmac.new(self.material, b"jutaku/key-id", hashlib.sha256).digest()[:8]

    @property
    def key_id(self) -> str:
        return f"{self.name}:{self.fingerprint.hex()}"

    def __repr__(self) -> str:
        return f"SecretKey({self.key_id})"

    __str__ = __repr__


def _write_key_file(path: Path, material: bytes) -> None:
    """Create ``path`` exclusively with mode 0600; never overwrite an existing key."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, base64.b64encode(material) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_key_file(path: Path, name: str, version: int = 0) -> SecretKey:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError as exc:
        raise KeyFileError(f"Key file {path} is missing") from exc
    except OSError as exc:
        raise KeyFileError(f"Key file {path} cannot be opened ({exc.strerror})") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError(f"Key file {path} is not a regular file")
        if st.st_mode & 0o077:
            raise KeyFileError(
                f"Key file {path} has mode {stat.S_IMODE(st.st_mode):04o}: group or others may read it. "
                f"Refusing to use it. Check who could have copied it, then `chmod 600 {path}` "
                "(docs/runbooks/keys.md)."
            )
        raw = os.read(fd, 4096)
    finally:
        os.close(fd)
    try:
        material = base64.b64decode(raw.strip(), validate=True)
    except ValueError:
        material = b""
    if len(material) != KEY_BYTES:
        raise KeyFileError(f"Key file {path} is malformed (expected {KEY_BYTES} bytes in base64)")
    created = datetime.fromtimestamp(st.st_mtime, tz=UTC)
    return SecretKey(name=name, material=material, created_at=created, version=version)


def _kek_versions(keys_dir: Path) -> list[int]:
    if not keys_dir.is_dir():
        return []
    found = (_KEK_FILE.match(p.name) for p in keys_dir.iterdir())
    return sorted(int(m.group(1)) for m in found if m)


def initialise_keys(keys_dir: Path) -> list[str]:
    """Create any missing key (KEK v1, index, media) in ``keys_dir``; existing keys are kept.

    Returns the paths created (empty when every key already exists). Called by ``jutaku init``.
    """
    keys_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    wanted = [INDEX_KEY_FILE, MEDIA_KEY_FILE]
    if not _kek_versions(keys_dir):
        wanted.insert(0, kek_file_name(1))
    created: list[str] = []
    for name in wanted:
        path = keys_dir / name
        if path.exists():
            continue
        try:
            _write_key_file(path, secrets.token_bytes(KEY_BYTES))
        except FileExistsError:  # pragma: no cover - created concurrently by another init
            continue
        created.append(str(path))
    return created


class KeyRing:
    """Every key of one installation, loaded once. ``repr`` lists key ids only."""

    def __init__(self, keys_dir: Path, keks: dict[int, SecretKey], index: SecretKey, media: SecretKey):
        if not keks:
            raise KeyFileError(f"No KEK in {keys_dir}")
        self.keys_dir = keys_dir
        self._keks = dict(keks)
        self._kek_ciphers: dict[int, AESGCM] = {}
        self.index_key = index
        self.media_key = media
        self._lock = threading.Lock()

    @classmethod
    def load(cls, keys_dir: Path, *, production: bool = True) -> KeyRing:
        """Read every key file. A missing key stops with :class:`KeyFileError` (a ConfigurationError).

        Outside production a keys folder that holds no key at all (a fresh test or demo home) is
        initialised first; a partly missing set always stops, since a new key cannot read old data.
        """
        keys_dir = Path(keys_dir)
        present = keys_dir.is_dir() and any(keys_dir.glob("*.key"))
        if not present and not production:
            initialise_keys(keys_dir)
        versions = _kek_versions(keys_dir)
        missing = [n for n in (INDEX_KEY_FILE, MEDIA_KEY_FILE) if not (keys_dir / n).exists()]
        if not versions:
            missing.insert(0, "kek-NNNN.key")
        if missing:
            raise KeyFileError(
                f"Key file(s) {', '.join(missing)} missing in {keys_dir}: Jutaku refuses to start. "
                "Restore them from the key backup (docs/runbooks/keys.md); on a new installation "
                "run `jutaku init`."
            )
        keks = {v: _read_key_file(keys_dir / kek_file_name(v), f"kek-{v:04d}", v) for v in versions}
        index = _read_key_file(keys_dir / INDEX_KEY_FILE, "index")
        media = _read_key_file(keys_dir / MEDIA_KEY_FILE, "media")
        return cls(keys_dir, keks, index, media)

    # --- KEKs -------------------------------------------------------------------------------
    @property
    def current_kek_version(self) -> int:
        return max(self._keks)

    @property
    def kek_versions(self) -> list[int]:
        return sorted(self._keks)

    def kek(self, version: int) -> SecretKey:
        try:
            return self._keks[version]
        except KeyError:
            raise KeyFileError(
                f"KEK version {version} is not in {self.keys_dir} (retired or lost): "
                f"restore kek-{version:04d}.key from the key backup"
            ) from None

    def kek_cipher(self, version: int) -> AESGCM:
        """The AES-GCM object of a KEK version, built once and reused (performance.md)."""
        cipher = self._kek_ciphers.get(version)
        if cipher is None:
            cipher = self._kek_ciphers[version] = AESGCM(self.kek(version).material)
        return cipher

    def create_next_kek(self) -> SecretKey:
        """Write ``kek-<current+1>.key`` (0600, exclusive) and make it current."""
        with self._lock:
            version = max(self.current_kek_version, *_kek_versions(self.keys_dir)) + 1
            path = self.keys_dir / kek_file_name(version)
            _write_key_file(path, secrets.token_bytes(KEY_BYTES))
            key = _read_key_file(path, f"kek-{version:04d}", version)
            self._keks[version] = key
            return key

    def remove_kek(self, version: int) -> Path:
        """Overwrite and delete an old KEK file. The caller checks that no DEK still uses it."""
        with self._lock:
            if version == self.current_kek_version:
                raise ValueError("the current KEK cannot be removed")
            self.kek(version)
            path = self.keys_dir / kek_file_name(version)
            with open(path, "r+b") as fh:  # best effort: storage may keep old blocks (runbook)
                size = fh.seek(0, os.SEEK_END)
                fh.seek(0)
                fh.write(b"\0" * size)
                fh.flush()
                os.fsync(fh.fileno())
            path.unlink()
            del self._keks[version]
            self._kek_ciphers.pop(version, None)
            return path

    def all_keys(self) -> list[SecretKey]:
        return [*(self._keks[v] for v in sorted(self._keks)), self.index_key, self.media_key]

    def __repr__(self) -> str:
        return f"KeyRing({self.keys_dir}, {', '.join(k.key_id for k in self.all_keys())})"

    __str__ = __repr__


# --- process-wide key ring ---------------------------------------------------------------------
_lock = threading.Lock()
_loaded: KeyRing | None = None
_override: KeyRing | None = None


def get_keyring() -> KeyRing:
    """The key ring of this installation (``config.get().keys_dir``), read once per process."""
    global _loaded
    if _override is not None:
        return _override
    with _lock:
        if _loaded is None:
            from jutaku import config

            cfg = config.get()
            _loaded = KeyRing.load(cfg.keys_dir, production=cfg.is_production)
        return _loaded


def set_keyring(keyring: KeyRing | None) -> KeyRing | None:
    """Make ``keyring`` the process-wide key ring (tests, tools); ``None`` reverts. Returns the old one."""
    global _override
    previous, _override = _override, keyring
    return previous


@contextmanager
def use_keyring(keyring: KeyRing) -> Iterator[KeyRing]:
    previous = set_keyring(keyring)
    try:
        yield keyring
    finally:
        set_keyring(previous)
