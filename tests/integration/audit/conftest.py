"""Fixtures for the audit tests.

The append-only triggers refuse DELETE/TRUNCATE on ``audit_record``, which is how pytest-django
empties the database after a ``transaction=True`` test. ``_append_only_triggers`` (autouse) makes
sure the triggers exist for every database test and removes them only at the end of a
transactional test, just before the flush (this fixture is torn down before the database fixture).
The same fixture belongs in ``tests/conftest.py`` for every suite whose transactional tests write
audit records.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection

from jutaku.accounts.actor import Actor
from jutaku.accounts.permissions import Permission
from jutaku.audit import triggers


@pytest.fixture(autouse=True)
def _append_only_triggers(request: pytest.FixtureRequest) -> Iterator[None]:
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        yield
        return
    transactional = bool(marker.kwargs.get("transaction", False))
    request.getfixturevalue("transactional_db" if transactional else "db")
    triggers.install_on(connection)
    yield
    if transactional:
        connection.close()  # a test may leave the connection in a failed transaction
        triggers.uninstall_on(connection)


@pytest.fixture
def actor() -> Actor:
    return Actor(username="clerk01", terminal="10.0.0.21", permissions=frozenset(Permission))
