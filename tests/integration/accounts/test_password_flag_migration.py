"""Migration accounts 0005 (issue 14 item 14) on data: the accounts of a home from before it are not flagged —
their passwords are what they are, and whether to make everyone change theirs is the security
administrator's decision (``users reset-password``). SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("back_to_latest")]
BEFORE = [("accounts", "0004_cliid")]
AFTER = [("accounts", "0005_user_password_must_change")]


def _migrate(targets: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_accounts_from_before_are_not_flagged() -> None:
    old = _migrate(BEFORE)
    try:
        User = old.get_model("accounts", "User")
        at = datetime(2026, 4, 1, tzinfo=UTC)
        for n, name in enumerate(("sato.k", "tanaka.h")):
            User.objects.create(username=name, full_name="試験 太郎", staff_id=f"B{n}", organisation="bureau",
                                start_date=date(2026, 4, 1), end_date=date(2027, 3, 31), created_at=at,
                                created_by="os:installer", password="argon2$...")
    finally:
        new = _migrate(AFTER)
    flags = dict(new.get_model("accounts", "User").objects.values_list("username", "password_must_change"))
    assert flags == {"sato.k": False, "tanaka.h": False}
