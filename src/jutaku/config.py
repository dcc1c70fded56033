"""Configuration, read once from the environment and the home folder.

Everything the application needs from outside (paths, database, mode, secrets) is resolved here and
nowhere else. Secrets are held as :class:`Secret` so that they never show up in ``repr`` or logs.

Environment:
- ``JUTAKU_HOME``: the home folder (default ``./var/jutaku``) holding the SQLite database, keys,
  configuration and output files.
- ``JUTAKU_DATABASE_URL``: a ``postgresql://`` URL selects PostgreSQL; unset means SQLite in the home.
- ``JUTAKU_MODE``: ``production`` (default), ``demo`` or ``test``. In production a missing key or secret
  stops start-up with a clear message.
- ``JUTAKU_ALLOWED_HOSTS``: host names the web application answers to, comma-separated (default
  ``localhost,127.0.0.1,[::1]``).
- ``JUTAKU_TRUSTED_PROXIES``: addresses of reverse proxies whose ``X-Forwarded-For`` and
  ``X-Forwarded-Proto`` are believed, comma-separated (default none: the peer address is the client).
- ``JUTAKU_OUTPUT_RETENTION_DAYS``: how many days a file the system writes (export, list, report) is kept
  before it is purged at the start of the next command (default 3; 0 = at the next command; at most 365).
- ``JUTAKU_BACKUP_DIR``: where `jutaku backup` writes (default ``<home>/backups``).
- ``JUTAKU_BACKUP_RETENTION_DAYS``: how long a backup is kept before `jutaku backup prune` removes it
  (default 90, 1–3650). A backup holds what is deleted after it was taken until it expires (ADR 0013).
- ``JUTAKU_AUDIT_ANCHOR_DIR``: where the signed anchors of the audit chain are appended (default
  ``<home>/audit-anchors``); ``JUTAKU_AUDIT_SIGNING_DIR``: the folder of their Ed25519 signing key (default
  ``<home>/audit-signing``, apart from the data keys); ``JUTAKU_AUDIT_ANCHOR_MINUTES``: at least this often an
  anchor is written while the trail grows (default 5). Production puts both folders on another mount
  (docs/runbooks/audit-verification.md, ADR 0014).
- ``JUTAKU_TEST_UTMP``: in test mode only, the utmp file whose login records tell the CLI its terminal
  instead of the system's (ADR 0018). It is believed only if root owns it, like the system's: the
  functional tests, run as root, write one for their own process. Ignored in the other modes.

Nothing here tells the CLI which terminal it is on: that comes from the kernel and the login records
(:mod:`jutaku.accounts.osfacts`), never from the environment (``$SSH_CONNECTION`` is the user's to set).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from jutaku.domain.media import DEFAULT_RETENTION_DAYS as OUTPUT_RETENTION_DAYS
from jutaku.domain.media import MAX_RETENTION_DAYS as MAX_OUTPUT_RETENTION_DAYS
from jutaku.domain.retention import DEFAULT_RETENTION_DAYS as BACKUP_RETENTION_DAYS
from jutaku.domain.retention import check_retention_days

MODES = ("production", "demo", "test")


class ConfigurationError(RuntimeError):
    """The installation is not usable as configured (missing home, key or secret)."""


@dataclass(frozen=True)
class Secret:
    """A secret value that never prints."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__


@dataclass(frozen=True)
class Config:
    home: Path
    mode: str
    database_url: str | None
    secret_key: Secret | None
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "[::1]")
    trusted_proxies: tuple[str, ...] = ()
    output_retention_days: int = OUTPUT_RETENTION_DAYS
    backup_retention_days: int = BACKUP_RETENTION_DAYS
    backup_folder: Path | None = None  # JUTAKU_BACKUP_DIR; ``None``: <home>/backups
    audit_anchor_dir_override: Path | None = None
    audit_signing_dir_override: Path | None = None
    audit_anchor_minutes: int = 5
    test_utmp: Path | None = None  # JUTAKU_TEST_UTMP, test mode only

    @property
    def home_mode(self) -> str | None:
        """The mode the home was initialised in (``jutaku.json``), or None when it cannot be read."""
        import json

        try:
            mode = json.loads((self.home / "jutaku.json").read_text(encoding="utf-8")).get("mode")
        except (OSError, ValueError, AttributeError):
            return None
        return mode if mode in MODES else None

    @property
    def backup_dir(self) -> Path:
        """Where `jutaku backup` writes and `jutaku backup prune` looks (ADR 0013)."""
        return self.backup_folder or self.home / "backups"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def output_dir(self) -> Path:
        return self.home / "output"

    @property
    def locks_dir(self) -> Path:
        return self.home / "locks"

    @property
    def uploads_dir(self) -> Path:
        """Files uploaded through the web UI, until their job has read them (generated names only)."""
        return self.home / "uploads"

    @property
    def downloads_dir(self) -> Path:
        """Files made for download through the web UI; they expire and are deleted (FILE-09)."""
        return self.home / "downloads"

    @property
    def audit_anchor_dir(self) -> Path:
        """The append-only file of signed anchors and the exported public key (ADR 0014)."""
        return self.audit_anchor_dir_override or self.home / "audit-anchors"

    @property
    def audit_signing_dir(self) -> Path:
        """The Ed25519 key that signs the anchors: apart from the database and from the data keys."""
        return self.audit_signing_dir_override or self.home / "audit-signing"

    @property
    def sqlite_path(self) -> Path:
        return self.home / "jutaku.sqlite3"

    @property
    def secret_key_path(self) -> Path:
        return self.keys_dir / "django-secret.key"

    @property
    def is_production(self) -> bool:
        return self.mode == "production"

    @property
    def is_initialised(self) -> bool:
        return (self.home / "jutaku.json").exists()

    def require_initialised(self) -> None:
        """Refuse to run a data command against a home that `jutaku init` never created."""
        if not self.is_initialised:
            raise ConfigurationError(
                f"Jutaku home {self.home} is not initialised: run `jutaku init` first "
                "(JUTAKU_HOME selects the home)."
            )


def _read_secret(path: Path) -> Secret | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    return Secret(text) if text else None


def load(environ: dict[str, str] | None = None) -> Config:
    """Build the configuration from an environment mapping (``os.environ`` by default)."""
    env = dict(os.environ if environ is None else environ)
    home = Path(env.get("JUTAKU_HOME") or "./var/jutaku").expanduser().resolve()
    mode = env.get("JUTAKU_MODE", "production")
    if mode not in MODES:
        raise ConfigurationError(f"JUTAKU_MODE must be one of {', '.join(MODES)}, not {mode!r}")
    database_url = env.get("JUTAKU_DATABASE_URL") or None
    if database_url and not database_url.startswith(("postgres://", "postgresql://", "sqlite://")):
        raise ConfigurationError("JUTAKU_DATABASE_URL must be a postgresql:// or sqlite:// URL")
    secret = _read_secret(home / "keys" / "django-secret.key")
    hosts = _listed(env.get("JUTAKU_ALLOWED_HOSTS")) or ("localhost", "127.0.0.1", "[::1]")
    proxies = _listed(env.get("JUTAKU_TRUSTED_PROXIES"))
    minutes = env.get("JUTAKU_AUDIT_ANCHOR_MINUTES") or "5"
    if not minutes.isascii() or not minutes.isdigit() or not 1 <= int(minutes) <= 1440:
        raise ConfigurationError("JUTAKU_AUDIT_ANCHOR_MINUTES must be a whole number of minutes, 1..1440")
    return Config(home=home, mode=mode, database_url=database_url, secret_key=secret, allowed_hosts=hosts,
                  trusted_proxies=proxies,
                  output_retention_days=_output_retention_days(env.get("JUTAKU_OUTPUT_RETENTION_DAYS")),
                  backup_retention_days=_retention(env.get("JUTAKU_BACKUP_RETENTION_DAYS")),
                  backup_folder=_path(env.get("JUTAKU_BACKUP_DIR")),
                  audit_anchor_dir_override=_path(env.get("JUTAKU_AUDIT_ANCHOR_DIR")),
                  audit_signing_dir_override=_path(env.get("JUTAKU_AUDIT_SIGNING_DIR")),
                  audit_anchor_minutes=int(minutes),
                  test_utmp=_path(env.get("JUTAKU_TEST_UTMP")) if mode == "test" else None)


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser().resolve() if value else None


def _output_retention_days(value: str | None) -> int:
    if value is None or not value.strip():
        return OUTPUT_RETENTION_DAYS
    text = value.strip()
    if not text.isascii() or not text.isdigit() or int(text) > MAX_OUTPUT_RETENTION_DAYS:
        raise ConfigurationError("JUTAKU_OUTPUT_RETENTION_DAYS must be a whole number of days, "
                                 f"0..{MAX_OUTPUT_RETENTION_DAYS}")
    return int(text)


def _retention(value: str | None) -> int:
    if not value:
        return BACKUP_RETENTION_DAYS
    try:
        return check_retention_days(int(value))
    except ValueError:
        raise ConfigurationError("JUTAKU_BACKUP_RETENTION_DAYS must be a number of days from 1 to 3650") from None


def _listed(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


@cache
def get() -> Config:
    """The process-wide configuration, read once."""
    return load()
