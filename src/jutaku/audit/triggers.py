"""Database triggers that make ``audit_record`` append-only (checklist LOG-03), on both vendors.

Migration 0001 installs the first set (:func:`install` / :func:`uninstall`: UPDATE, DELETE and TRUNCATE of
records refused); migration 0002 the guards (:func:`install_guards`, ADR 0014):

- SQLite ``INSERT OR REPLACE`` deletes the row it replaces *without* firing DELETE triggers (unless
  ``recursive_triggers`` is on, which an attacker's own connection need not set): a BEFORE INSERT trigger
  refuses any insert of a seq that exists, whatever the conflict clause.
- ``audit_head`` moves only the way the append path moves it: an UPDATE must keep the id, never lower
  the seq, and land on the last record (its seq and its hash); an INSERT only creates the genesis head of an
  empty trail; DELETE (and TRUNCATE on PostgreSQL) are refused.

They stop the application and careless operators; a database owner can still drop them, which the hash
chain and the signed anchors outside the database detect (ADR 0003, ADR 0014).
"""

from __future__ import annotations

from typing import Any, Final

MESSAGE: Final = "audit records are append-only"
HEAD_MESSAGE: Final = "the audit head moves only with appended records"
_GENESIS: Final = "0" * 64

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

SQLITE_GUARDS: Final = (  # constants only (S608: no input reaches these)
    f"CREATE TRIGGER IF NOT EXISTS audit_record_no_replace BEFORE INSERT ON audit_record "  # noqa: S608
    f"WHEN EXISTS (SELECT 1 FROM audit_record WHERE seq = NEW.seq) "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    f"CREATE TRIGGER IF NOT EXISTS audit_head_guard_update BEFORE UPDATE ON audit_head "  # noqa: S608
    f"WHEN NEW.id IS NOT OLD.id OR NEW.seq < OLD.seq "
    f"OR NOT EXISTS (SELECT 1 FROM audit_record WHERE seq = NEW.seq AND hash = NEW.hash) "
    f"OR EXISTS (SELECT 1 FROM audit_record WHERE seq > NEW.seq) "
    f"BEGIN SELECT RAISE(ABORT, '{HEAD_MESSAGE}'); END;",
    f"CREATE TRIGGER IF NOT EXISTS audit_head_guard_insert BEFORE INSERT ON audit_head "  # noqa: S608
    f"WHEN NEW.seq IS NOT 0 OR NEW.hash IS NOT '{_GENESIS}' OR EXISTS (SELECT 1 FROM audit_record) "
    f"OR EXISTS (SELECT 1 FROM audit_head) "
    f"BEGIN SELECT RAISE(ABORT, '{HEAD_MESSAGE}'); END;",
    f"CREATE TRIGGER IF NOT EXISTS audit_head_no_delete BEFORE DELETE ON audit_head "
    f"BEGIN SELECT RAISE(ABORT, '{HEAD_MESSAGE}'); END;",
)
SQLITE_GUARDS_UNINSTALL: Final = (
    "DROP TRIGGER IF EXISTS audit_record_no_replace;",
    "DROP TRIGGER IF EXISTS audit_head_guard_update;",
    "DROP TRIGGER IF EXISTS audit_head_guard_insert;",
    "DROP TRIGGER IF EXISTS audit_head_no_delete;",
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

POSTGRES_GUARDS: Final = (  # constants only (S608: no input reaches these)
    f"""CREATE OR REPLACE FUNCTION audit_head_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.id = OLD.id AND NEW.seq >= OLD.seq
           AND EXISTS (SELECT 1 FROM audit_record WHERE seq = NEW.seq AND hash = NEW.hash)
           AND NOT EXISTS (SELECT 1 FROM audit_record WHERE seq > NEW.seq) THEN
            RETURN NEW;
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        IF NEW.seq = 0 AND NEW.hash = '{_GENESIS}' AND NOT EXISTS (SELECT 1 FROM audit_record)
           AND NOT EXISTS (SELECT 1 FROM audit_head) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION '{HEAD_MESSAGE} (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;""",  # noqa: S608
    "DROP TRIGGER IF EXISTS audit_head_guard ON audit_head;",
    "CREATE TRIGGER audit_head_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_head "
    "FOR EACH ROW EXECUTE FUNCTION audit_head_guard();",
    "DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head;",
    "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_head_guard();",
)
POSTGRES_GUARDS_UNINSTALL: Final = (
    "DROP TRIGGER IF EXISTS audit_head_guard ON audit_head;",
    "DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head;",
    "DROP FUNCTION IF EXISTS audit_head_guard();",
)


def statements(vendor: str, *, install_: bool = True, first: bool = True, guards: bool = True) -> tuple[str, ...]:
    """The statements of the first set (migration 0001) and/or the guards (migration 0002)."""
    if vendor not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"no append-only triggers for {vendor}")  # fail closed
    sqlite = vendor == "sqlite"
    one: tuple[str, ...]
    two: tuple[str, ...]
    if install_:
        one = SQLITE_INSTALL if sqlite else POSTGRES_INSTALL
        two = SQLITE_GUARDS if sqlite else POSTGRES_GUARDS
    else:
        one = SQLITE_UNINSTALL if sqlite else POSTGRES_UNINSTALL
        two = SQLITE_GUARDS_UNINSTALL if sqlite else POSTGRES_GUARDS_UNINSTALL
    return (one if first else ()) + (two if guards else ())


def _run(connection: Any, sql: tuple[str, ...]) -> None:
    with connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)


def install_on(connection: Any) -> None:
    """Every trigger (both migrations' sets)."""
    _run(connection, statements(connection.vendor))


def uninstall_on(connection: Any) -> None:
    """Remove every trigger (migration reversal; tests that play a database owner)."""
    _run(connection, statements(connection.vendor, install_=False))


def install(apps: Any, schema_editor: Any) -> None:
    """Migration 0001: UPDATE/DELETE/TRUNCATE of records refused."""
    _run(schema_editor.connection, statements(schema_editor.connection.vendor, guards=False))


def uninstall(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor.connection, statements(schema_editor.connection.vendor, install_=False, guards=False))


def install_guards(apps: Any, schema_editor: Any) -> None:
    """Migration 0002: REPLACE of records and any move of the head other than the append path refused."""
    _run(schema_editor.connection, statements(schema_editor.connection.vendor, first=False))


def uninstall_guards(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor.connection, statements(schema_editor.connection.vendor, install_=False, first=False))


def create_head(apps: Any, schema_editor: Any) -> None:
    from jutaku.audit.chain import GENESIS_HASH

    head = apps.get_model("audit", "AuditHead")
    head.objects.using(schema_editor.connection.alias).get_or_create(
        id=1, defaults={"seq": 0, "hash": GENESIS_HASH}
    )
