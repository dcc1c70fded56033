"""Database triggers that make ``audit_record`` append-only (checklist LOG-03), on both vendors.

Installed by migration 0001 through :func:`install` / :func:`uninstall` (``RunPython``, branching on
``schema_editor.connection.vendor``). They stop the application and careless operators; a database
owner can still drop them, which the hash chain and off-database checkpoints detect (ADR 0003).
"""

from __future__ import annotations

from typing import Any, Final

MESSAGE: Final = "audit records are append-only"

SQLITE_INSTALL: Final = (
    f"CREATE TRIGGER IF NOT EXISTS audit_record_no_update BEFORE UPDATE ON audit_record "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    f"CREATE TRIGGER IF NOT EXISTS audit_record_no_delete BEFORE DELETE ON audit_record "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
)
SQLITE_UNINSTALL: Final = (
    "DROP TRIGGER IF EXISTS audit_record_no_update;",
    "DROP TRIGGER IF EXISTS audit_record_no_delete;",
)

POSTGRES_INSTALL: Final = (
    f"""CREATE OR REPLACE FUNCTION audit_record_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;""",
    "DROP TRIGGER IF EXISTS audit_record_no_update_delete ON audit_record;",
    "CREATE TRIGGER audit_record_no_update_delete BEFORE UPDATE OR DELETE ON audit_record "
    "FOR EACH ROW EXECUTE FUNCTION audit_record_append_only();",
    "DROP TRIGGER IF EXISTS audit_record_no_truncate ON audit_record;",
    "CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_record "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_record_append_only();",
)
POSTGRES_UNINSTALL: Final = (
    "DROP TRIGGER IF EXISTS audit_record_no_update_delete ON audit_record;",
    "DROP TRIGGER IF EXISTS audit_record_no_truncate ON audit_record;",
    "DROP FUNCTION IF EXISTS audit_record_append_only();",
)


def statements(vendor: str, *, install_: bool = True) -> tuple[str, ...]:
    if vendor == "sqlite":
        return SQLITE_INSTALL if install_ else SQLITE_UNINSTALL
    if vendor == "postgresql":
        return POSTGRES_INSTALL if install_ else POSTGRES_UNINSTALL
    raise NotImplementedError(f"no append-only triggers for {vendor}")  # fail closed


def install_on(connection: Any) -> None:
    with connection.cursor() as cursor:
        for sql in statements(connection.vendor):
            cursor.execute(sql)


def uninstall_on(connection: Any) -> None:
    """Remove the triggers (migration reversal; tests that play a database owner)."""
    with connection.cursor() as cursor:
        for sql in statements(connection.vendor, install_=False):
            cursor.execute(sql)


def install(apps: Any, schema_editor: Any) -> None:
    install_on(schema_editor.connection)


def uninstall(apps: Any, schema_editor: Any) -> None:
    uninstall_on(schema_editor.connection)


def create_head(apps: Any, schema_editor: Any) -> None:
    from jutaku.audit.chain import GENESIS_HASH

    head = apps.get_model("audit", "AuditHead")
    head.objects.using(schema_editor.connection.alias).get_or_create(
        id=1, defaults={"seq": 0, "hash": GENESIS_HASH}
    )
