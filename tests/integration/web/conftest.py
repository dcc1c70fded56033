"""Fixtures for the web UI tests: registered console terminals, users with TOTP, signed-in clients.

``signed_in(*roles)`` makes a user with exactly those roles and signs them in through the real sign-in
page (password + TOTP), returning a :class:`Browser`: a Django test client with CSRF checks on, plus the
user (for step-up codes). Each later TOTP code is taken one step ahead, as a real second code would be.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client

from tests.integration.accounts.conftest import PASSWORD, Made, MakeUser, console, make_user  # noqa: F401

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Browser:
    client: Client
    made: Made
    steps_used: int = field(default=0)

    @property
    def username(self) -> str:
        return str(self.made.user.username)

    def next_code(self) -> str:
        """A TOTP code of a later time step than any used so far (codes are single-use)."""
        self.steps_used += 1
        return self.made.code(time.time() + 30 * self.steps_used)

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)

    def token(self, url: str) -> str:
        page = self.client.get(url)
        match = CSRF.search(page.content.decode())
        assert match, f"no CSRF token on {url}"
        return match.group(1)

    def post(self, url: str, data: dict[str, Any] | None = None, *, form: str | None = None, **kw: Any) -> Any:
        """POST with the CSRF token of the page ``form`` (default: the dashboard)."""
        payload = {"csrfmiddlewaretoken": self.token(form or "/"), **(data or {})}
        return self.client.post(url, payload, **kw)

    def step_up(self) -> None:
        response = self.post("/step-up/", {"password": PASSWORD, "code": self.next_code(), "next": "/"},
                             form="/step-up/")
        assert response.status_code == 302, response.content.decode()[:500]


def sign_in(client: Client, made: Made, code: str | None = None) -> Any:
    page = client.get("/login/")
    token = CSRF.search(page.content.decode())
    assert token
    return client.post("/login/", {"csrfmiddlewaretoken": token.group(1), "username": made.user.username,
                                   "password": PASSWORD, "code": code or made.code()})


SignedIn = Callable[..., Browser]


@pytest.fixture
def signed_in(make_user: MakeUser) -> SignedIn:  # noqa: F811
    def make(*roles: str, organisation: str = "bureau") -> Browser:
        made = make_user("", *roles, organisation=organisation)
        client = Client(enforce_csrf_checks=True)
        response = sign_in(client, made)
        assert response.status_code == 302, response.content.decode()[:500]
        return Browser(client, made)

    return make
