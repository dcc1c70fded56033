"""Browser tests: Playwright driving Debian's chromium (headless) against a live server of the app.

- ``chromium``: one browser for the session (``/usr/bin/chromium``, installed by ``.ci/run``; the tests
  are skipped, loudly, where it is missing).
- ``live``: the app served by pytest-django's live server on a transactional test database, with the
  console terminals registered and a task worker running in a thread (as ``jutaku worker`` would).
- ``people``: users with exactly the named roles, each signed in through the real sign-in page.
- ``console``: every console error, uncaught script error and Content-Security-Policy violation of the
  test's browser contexts (an inline script or style would show up here); the test fails on any it did
  not expect (``console.allow(status, path)`` for the 403/404 a test is about).
- ``tab()``: another browser context (a second user), watched by the same ``console``.
- ``shot(page, name)``: a full-page screenshot saved as a test artifact in ``tests/browser/artifacts/``.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    """The live server's address and its task worker, which a test may hold back (``paused``) to see a
    task queued before it runs."""

    url: str
    worker: threading.Thread | None = None
    stop: threading.Event | None = None

    def at(self, path: str) -> str:
        return self.url.rstrip("/") + path

    def start_worker(self) -> None:
        from jutaku.jobs.worker import serve
        from jutaku.web.tasks import all_kinds

        self.stop = threading.Event()
        self.worker = threading.Thread(target=serve, args=(all_kinds(),),
                                       kwargs={"interval": 0.2, "stop": self.stop.is_set}, daemon=True)
        self.worker.start()

    def stop_worker(self) -> None:
        if self.worker is not None and self.stop is not None:
            self.stop.set()
            self.worker.join(timeout=30)
            self.worker = None

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No task runs inside the block; the worker starts again after it."""
        self.stop_worker()
        try:
            yield
        finally:
            self.start_worker()


@pytest.fixture
def live(live_server: Any, home_keys: Path, allowlist: int) -> Iterator[Live]:
    from django.core.cache import cache

    from jutaku.accounts.actor import SYSTEM
    from jutaku.accounts.terminals import register_console

    cache.clear()  # the dashboard's cached counts belong to the database of an earlier test
    register_console(actor=SYSTEM)
    server = Live(live_server.url)
    server.start_worker()
    yield server
    server.stop_worker()


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
        made = create_user(new, password, actor=SYSTEM, dual_control=False, must_change_password=False)
        return Person(new.username, made.enrolment.secret, password)

    return make


#: Reports CSP violations to the console as errors too (Chromium logs most of them itself). Added by the
#: driver (not a page script), so the CSP under test does not apply to it.
CSP_LISTENER = """document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                " at " + e.sourceFile + ":" + e.lineNumber);
});"""
HTTP_ERROR = re.compile(r"Failed to load resource: the server responded with a status of (\d{3})")


@dataclass
class Console:
    """What the browser complained about, across every context of a test."""

    problems: list[str]
    allowed: set[tuple[int, str]]

    def watch(self, context: Any) -> None:
        context.add_init_script(script=CSP_LISTENER)
        context.on("console", self._message)
        context.on("weberror", lambda error: self.problems.append(f"script error: {error.error}"))

    def allow(self, status: int, path: str) -> None:
        """The answer ``status`` for the page ``path`` is what the test expects (a 403 page, a 404)."""
        self.allowed.add((status, path))

    def _message(self, message: Any) -> None:
        if message.type not in ("error", "warning") and "Content-Security-Policy" not in message.text:
            return
        http = HTTP_ERROR.match(message.text)
        url = str(message.location.get("url", ""))
        if http and any(int(http.group(1)) == status and url.split("?")[0].endswith(path)
                        for status, path in self.allowed):
            return
        self.problems.append(f"{message.type}: {message.text} ({url})")

    def assert_clean(self) -> None:
        """No console error, script error or CSP violation so far (each is reported once)."""
        problems, self.problems[:] = list(self.problems), []
        assert problems == [], "the browser reported:\n" + "\n".join(problems)


@pytest.fixture
def console() -> Iterator[Console]:
    seen = Console([], set())
    yield seen
    assert seen.problems == [], f"the browser reported: {seen.problems}"


def _context(chromium: Any, console: Console) -> Any:
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="ja-JP", accept_downloads=True)
    context.set_default_timeout(20_000)
    console.watch(context)
    return context


@pytest.fixture
def page(chromium: Any, console: Console) -> Iterator[Any]:
    context = _context(chromium, console)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def tab(chromium: Any, console: Console) -> Iterator[Callable[[], Any]]:
    """A page in a browser context of its own (another user's cookies), as often as asked."""
    contexts: list[Any] = []

    def make() -> Any:
        contexts.append(_context(chromium, console))
        return contexts[-1].new_page()

    yield make
    for context in contexts:
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


def fits(page: Any) -> None:
    """Nothing overflows horizontally: the page is usable at the viewport's width (1366 px) without
    scrolling sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"{page.url} is {width}px wide at {viewport}px"


def step_up(page: Any, person: Person, *, screenshot: str | None = None, shown_here: str = "") -> None:
    """Answer the step-up page (password and a new TOTP code). It continues the action that asked for it and
    lands on that action's result (ADR 0024) — a redirect, or, for a page that must not be fetched again
    (the unmasked number), that page on the step-up's own answer: ``shown_here`` names its heading."""
    page.wait_for_url(re.compile(r".*/step-up/\?next="))
    assert page.get_by_role("heading", name="再認証").is_visible()
    page.get_by_label("パスワード").fill(person.password)
    page.get_by_label("ワンタイムコード").fill(person.code())
    if screenshot:
        shot(page, screenshot)
    page.get_by_role("button", name="再認証する").click()
    if shown_here:
        from playwright.sync_api import expect

        expect(page.get_by_role("heading", name=shown_here, level=1)).to_be_visible()
    else:
        page.wait_for_url(lambda url: "/step-up/" not in url)


def task_finished(page: Any, *, state: str = "完了") -> int:
    """Wait on a task's page until the worker is done (the page reloads itself); returns the task's id."""
    from playwright.sync_api import expect

    page.wait_for_url(re.compile(r".*/tasks/\d+/$"))
    expect(page.get_by_test_id("task-state")).to_have_text(state, timeout=60_000)
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def download(page: Any, label: str, into: Path) -> Path:
    """Click the download link named ``label`` on a task's page and save the file under ``into``."""
    link = page.get_by_test_id("download").filter(has_text=f"{label}（")
    with page.expect_download() as started:
        link.click()
    item = started.value
    target = into / item.suggested_filename
    item.save_as(target)
    return target
