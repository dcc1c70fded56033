"""Fixtures for the accounts tests: registered console terminals and a user factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pyotp
import pytest
from django.utils import timezone

from jutaku.accounts.actor import SYSTEM
from jutaku.accounts.models import User
from jutaku.accounts.terminals import register_console
from jutaku.accounts.users import NewUser, create_user

PASSWORD = "a long synthetic passphrase"


@dataclass
class Made:
    user: User
    secret: str
    password: str = PASSWORD

    def code(self, at: float | None = None) -> str:
        totp = pyotp.TOTP(self.secret)
        return totp.at(at) if at is not None else totp.now()


MakeUser = Callable[..., Made]


@pytest.fixture
def console(db: None) -> None:
    register_console(actor=SYSTEM)


@pytest.fixture
def make_user(console: None) -> MakeUser:
    counter = iter(range(1, 10_000))

    def make(username: str = "", *roles: str, organisation: str = "bureau", start: date | None = None,
             end: date | None = None) -> Made:
        n = next(counter)
        today = timezone.localdate()
        new = NewUser(username=username or f"clerk{n:02d}.t", full_name=f"試験 {n}", staff_id=f"S{n:05d}",
                      organisation=organisation, start_date=start or today - timedelta(days=10),
                      end_date=end or today + timedelta(days=100), roles=roles or ("registrar",))
        created = create_user(new, PASSWORD, actor=SYSTEM, dual_control=False, must_change_password=False)
        return Made(created.user, created.enrolment.secret)

    return make
