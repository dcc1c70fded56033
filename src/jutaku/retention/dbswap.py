"""The restored copy beside the database, and the switch between them (ADR 0019).

A restore never writes into the database until the copy has been opened and checked. :func:`candidate`
gives the vendor's :class:`Candidate`:

* **SQLite**: the backup file copied into ``<home>/restore/`` (0700) is the candidate; the switch first
  copies the database aside with the online backup API, then copies the candidate into it the same way —
  one write transaction, so a failure leaves the database as it was, and processes with the file open
  see the new content rather than a replaced file. Switching back copies the aside copy in again.
* **PostgreSQL**: ``pg_restore`` into a new database (``CREATE DATABASE``: the user needs ``CREATEDB``
  and must own the database); the switch renames the current database aside and the candidate in its
  place, which PostgreSQL refuses while other sessions are connected (nothing is changed then: stop
  ``jutaku serve`` and ``jutaku worker`` first). Switching back renames them again.

While a candidate is :meth:`Candidate.connected`, the process's default connection points at it, so the
checks, the migrations and the re-applied deletions run on the copy with the application's own code.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

from django.db import connections

from jutaku import config
from jutaku.domain.jst import format_file_stamp
from jutaku.domain.restore import RestoreRefused

PG_IN_USE_SECONDS: Final = 5.0
SQLITE_HEADER: Final = b"SQLite format 3\x00"


class Candidate(Protocol):
    aside: str  # where the current database is kept until the switch is confirmed (for messages)

    def load(self) -> None: ...
    def connected(self) -> contextlib.AbstractContextManager[None]: ...
    def switch(self) -> None: ...
    def switch_back(self) -> None: ...
    def discard(self) -> None: ...
    def drop_aside(self) -> None: ...


def workspace() -> Path:
    folder = config.get().home / "restore"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def stamp() -> str:
    """``20261205-090507-123456``: the time (JST, as in every file name) and microseconds, for unique names."""
    now = datetime.now(UTC)
    return f"{format_file_stamp(now)}-{now.microsecond:06d}"


@contextlib.contextmanager
def _default_name(name: str) -> Iterator[None]:
    """The default connection opened on database ``name`` for the block (closed before and after)."""
    connections.close_all()
    settings = connections["default"].settings_dict
    before = settings["NAME"]
    settings["NAME"] = name
    try:
        yield
    finally:
        connections.close_all()
        settings["NAME"] = before


def _unlink_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _copy_sqlite(source: Path, dest: Path) -> None:
    """The whole of ``source`` into ``dest`` in one write transaction (the online backup API)."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(dest, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


class SqliteCandidate:
    """``staged``: the backup file, already copied into the workspace and checked against its manifest."""

    def __init__(self, staged: Path) -> None:
        self.path = staged
        self.live = config.get().sqlite_path
        self.aside_path = staged.with_name(f"before-restore-{stamp()}.sqlite3")
        self.aside = str(self.aside_path)

    def load(self) -> None:
        """The staged copy is the candidate: it must at least be an SQLite file (its pages are checked by
        ``PRAGMA quick_check`` once connected, where the application's SQL functions exist)."""
        with self.path.open("rb") as fh:
            if fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                raise RestoreRefused("R08", "SQLite のデータベースファイルではありません")

    def connected(self) -> contextlib.AbstractContextManager[None]:
        return _default_name(str(self.path))

    def switch(self) -> None:
        connections.close_all()
        try:
            _copy_sqlite(self.live, self.aside_path)
        except sqlite3.Error as exc:
            _unlink_sqlite(self.aside_path)
            raise RestoreRefused("R12", f"現在のデータベースを退避できません ({type(exc).__name__})") from None
        try:
            _copy_sqlite(self.path, self.live)
        except sqlite3.Error as exc:
            raise RestoreRefused("R12", f"データベースに書き込めません ({type(exc).__name__})") from None

    def switch_back(self) -> None:
        connections.close_all()
        _copy_sqlite(self.aside_path, self.live)

    def discard(self) -> None:
        _unlink_sqlite(self.path)

    def drop_aside(self) -> None:
        _unlink_sqlite(self.aside_path)


class PostgresCandidate:
    def __init__(self, backup_file: Path) -> None:
        from psycopg.conninfo import conninfo_to_dict

        self.file = backup_file
        url = config.get().database_url or ""
        self.params: dict[str, Any] = {k: v for k, v in conninfo_to_dict(url).items() if v is not None}
        self.live = str(connections["default"].settings_dict["NAME"])
        when = stamp()[:15]
        self.name = f"{self.live[:40]}_new_{when}"
        self.aside = f"{self.live[:40]}_pre_{when}"

    def _conninfo(self, dbname: str) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo("", **{**self.params, "dbname": dbname})

    def _admin(self, template: str, *names: str) -> None:
        """One statement on the maintenance database (a database cannot be renamed from inside itself);
        ``{}`` in ``template`` are database names, quoted as identifiers."""
        import psycopg
        from psycopg import sql

        statement = sql.SQL(template).format(*(sql.Identifier(n) for n in names))
        with psycopg.connect(self._conninfo("postgres"), autocommit=True) as conn:
            conn.execute(statement)

    def load(self) -> None:
        import psycopg

        try:
            self._admin("CREATE DATABASE {} TEMPLATE template0", self.name)
        except psycopg.Error as exc:
            raise RestoreRefused("R12", f"リストア用のデータベースを作成できません（CREATEDB 権限が必要です: "
                                        f"{type(exc).__name__}）") from None
        if shutil.which("pg_restore") is None:
            self.discard()
            raise RestoreRefused("R08", "pg_restore がインストールされていません")
        args = ["pg_restore", "--no-owner", "--exit-on-error", "-d", self._conninfo(self.name), str(self.file)]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=3600, check=False)  # noqa: S603
        if proc.returncode != 0:
            self.discard()
            raise RestoreRefused("R08", f"pg_restore が失敗しました (終了コード {proc.returncode})")

    def connected(self) -> contextlib.AbstractContextManager[None]:
        return _default_name(self.name)

    def _rename(self, old: str, new: str) -> None:
        """Rename, waiting a moment for sessions that are closing (a command that just ended)."""
        import psycopg

        deadline = time.monotonic() + PG_IN_USE_SECONDS
        while True:
            try:
                self._admin("ALTER DATABASE {} RENAME TO {}", old, new)
                return
            except psycopg.errors.ObjectInUse:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)

    def switch(self) -> None:
        import psycopg

        connections.close_all()
        try:
            self._rename(self.live, self.aside)
        except psycopg.Error as exc:
            raise RestoreRefused("R12", f"データベース {self.live} に他の接続があります（jutaku serve と jutaku "
                                        f"worker を止めてください: {type(exc).__name__}）") from None
        try:
            self._rename(self.name, self.live)
        except psycopg.Error as exc:
            self._rename(self.aside, self.live)
            raise RestoreRefused("R12", f"切り替えられませんでした ({type(exc).__name__})") from None

    def switch_back(self) -> None:
        connections.close_all()
        self._rename(self.live, self.name)
        self._rename(self.aside, self.live)

    def discard(self) -> None:
        connections.close_all()
        self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)

    def drop_aside(self) -> None:
        self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.aside)


def candidate(backup_file: Path) -> Candidate:
    if connections["default"].vendor == "sqlite":
        return SqliteCandidate(backup_file)
    return PostgresCandidate(backup_file)
