"""Browser tests: Playwright driving Debian's chromium (headless) against a live server of the app.

- ``chromium``: one browser for the session (``/usr/bin/chromium``, installed by ``.ci/run``; the tests
  are skipped, loudly, where it is missing).
- ``live``: the app served by pytest-django's live server on a transactional test database, with the
  console terminals registered and a task worker running in a thread (as ``jutaku worker`` would).
- ``people``: users with exactly the named roles, each signed in through the real sign-in page.
- ``shot(page, name)``: a full-page screenshot saved as a test artifact in ``tests/browser/artifacts/``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API keeps an event loop on the test thread; the test's own ORM calls (making users,
# checking the database) are plain synchronous code on that thread, so Django's async guard is lifted here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """On SQLite, a test database in a file (WAL, busy timeout) instead of a shared in-memory one: the live
    server, the worker thread and the test each hold their own connection, as in production."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("browser-db") / "test.sqlite3")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it): BROWSER TESTS SKIPPED")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


@dataclass
class Live:
    url: str

    def at(self, path: str) -> str:
        return self.url.rstrip("/") + path


@pytest.fixture
def live(live_server: Any, home_keys: Path, allowlist: int) -> Iterator[Live]:
    from jutaku.accounts.actor import SYSTEM
    from jutaku.accounts.terminals import register_console
    from jutaku.jobs.worker import serve
    from jutaku.web.tasks import all_kinds

    register_console(actor=SYSTEM)
    stop = threading.Event()
    worker = threading.Thread(target=serve, args=(all_kinds(),), kwargs={"interval": 0.2, "stop": stop.is_set},
                              daemon=True)
    worker.start()
    yield Live(live_server.url)
    stop.set()
    worker.join(timeout=30)


@dataclass
class Person:
    username: str
    secret: str
    password: str
    steps: int = 0

    def code(self) -> str:
        """A TOTP code of a time step not used before (codes are single-use)."""
        import pyotp

        self.steps += 1
        return pyotp.TOTP(self.secret).at(time.time() + 30 * (self.steps - 1))


@pytest.fixture
def people(live: Live) -> Callable[..., Person]:
    from datetime import timedelta

    from django.utils import timezone

    from jutaku.accounts.actor import SYSTEM
    from jutaku.accounts.users import NewUser, create_user

    counter = iter(range(1, 1000))
    password = "a long synthetic passphrase"

    def make(*roles: str, username: str = "") -> Person:
        n = next(counter)
        today = timezone.localdate()
        new = NewUser(username=username or f"{roles[0].replace('_', '')[:10]}{n:02d}.b", full_name=f"試験 {n}",
                      staff_id=f"B{n:05d}", organisation="bureau", start_date=today - timedelta(days=1),
                      end_date=today + timedelta(days=365), roles=roles)
        made = create_user(new, password, actor=SYSTEM, dual_control=False)
        return Person(new.username, made.enrolment.secret, password)

    return make


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="ja-JP", accept_downloads=True)
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    context.close()


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, live: Live, person: Person, *, screenshot: str | None = None) -> None:
    page.goto(live.at("/login/"))
    page.get_by_label("利用者名").fill(person.username)
    page.get_by_label("パスワード").fill(person.password)
    page.get_by_label("ワンタイムコード").fill(person.code())
    if screenshot:
        shot(page, screenshot)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live.at("/"))
