"""A database trigger that keeps a closed installation window closed (ADR 0015), on both vendors.

Installed by migration ``accounts.0003``. Once ``closed_at`` is set, any UPDATE of the row is refused,
so the application cannot reopen the window and neither can a careless operator with SQL; a database
owner can drop the trigger, which the closure ledger outside the database and the audit trail
(``install:close``) still contradict.
"""

from __future__ import annotations

from typing import Any, Final

MESSAGE: Final = "the installation window stays closed"

SQLITE_INSTALL: Final = (
    "CREATE TRIGGER IF NOT EXISTS accounts_installation_stays_closed BEFORE UPDATE ON accounts_installation "
    f"WHEN OLD.closed_at IS NOT NULL BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
)
SQLITE_UNINSTALL: Final = ("DROP TRIGGER IF EXISTS accounts_installation_stays_closed;",)

POSTGRES_INSTALL: Final = (
    f"""CREATE OR REPLACE FUNCTION accounts_installation_stays_closed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.closed_at IS NOT NULL THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;""",
    "DROP TRIGGER IF EXISTS accounts_installation_stays_closed ON accounts_installation;",
    "CREATE TRIGGER accounts_installation_stays_closed BEFORE UPDATE ON accounts_installation "
    "FOR EACH ROW EXECUTE FUNCTION accounts_installation_stays_closed();",
)
POSTGRES_UNINSTALL: Final = (
    "DROP TRIGGER IF EXISTS accounts_installation_stays_closed ON accounts_installation;",
    "DROP FUNCTION IF EXISTS accounts_installation_stays_closed();",
)


def statements(vendor: str, *, install_: bool = True) -> tuple[str, ...]:
    if vendor == "sqlite":
        return SQLITE_INSTALL if install_ else SQLITE_UNINSTALL
    if vendor == "postgresql":
        return POSTGRES_INSTALL if install_ else POSTGRES_UNINSTALL
    raise NotImplementedError(f"no installation-window trigger for {vendor}")  # fail closed


def install(apps: Any, schema_editor: Any) -> None:
    with schema_editor.connection.cursor() as cursor:
        for sql in statements(schema_editor.connection.vendor):
            cursor.execute(sql)


def uninstall(apps: Any, schema_editor: Any) -> None:
    with schema_editor.connection.cursor() as cursor:
        for sql in statements(schema_editor.connection.vendor, install_=False):
            cursor.execute(sql)
