"""Fixtures for the audit tests (the append-only trigger fixture is in ``tests/conftest.py``)."""

from __future__ import annotations

import pytest

from jutaku.accounts.actor import Actor
from jutaku.accounts.permissions import Permission


@pytest.fixture
def actor() -> Actor:
    return Actor(username="clerk01", terminal="10.0.0.21", permissions=frozenset(Permission))
