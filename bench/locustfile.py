"""Load of staff using person search and the detail page (issue 7: p95 < 200 ms with 20 users).

Driven by ``bench/web.py`` (``make bench-web``): ``JUTAKU_BENCH_SAMPLE`` names a JSON file with the
synthetic accounts (username, password, TOTP secret) and a sample of persons (pk, 個人ID, kana prefix,
surname, birth date).
Each simulated user signs in once through the real sign-in page, then searches and opens detail pages.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re

import pyotp
from locust import HttpUser, between, task

SAMPLE = json.loads(open(os.environ["JUTAKU_BENCH_SAMPLE"], encoding="utf-8").read())  # noqa: SIM115
ACCOUNTS = itertools.cycle(SAMPLE["accounts"])
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Staff(HttpUser):
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        account = next(ACCOUNTS)
        page = self.client.get("/login/", name="login page")
        token = CSRF.search(page.text)
        assert token, "no CSRF token on the sign-in page"
        answer = self.client.post("/login/", {"csrfmiddlewaretoken": token.group(1), "username": account["username"],
                                              "password": account["password"],
                                              "code": pyotp.TOTP(account["secret"]).now()},
                                  name="sign in", allow_redirects=False)
        assert answer.status_code == 302, f"sign-in refused for {account['username']}"
        form = CSRF.search(self.client.get(SAMPLE["search_url"], name="search form").text)
        assert form, "no CSRF token on the search form"
        self.token = form.group(1)

    def search(self, name: str, **fields: str) -> None:
        """Names and birth dates are searched by POST only (ADR 0023)."""
        self.client.post(SAMPLE["search_url"], {"csrfmiddlewaretoken": self.token, **fields}, name=name)

    @task(3)
    def search_by_person_id(self) -> None:
        person = random.choice(SAMPLE["persons"])
        self.client.get(SAMPLE["search_url"], params={SAMPLE["id_param"]: person["person_id"]}, name="search: 個人ID")

    @task(2)
    def search_by_kana(self) -> None:
        person = random.choice(SAMPLE["persons"])
        self.search("search: カナ", **{SAMPLE["kana_param"]: person["kana_prefix"]})

    @task(2)
    def search_by_name_and_birth_date(self) -> None:
        person = random.choice(SAMPLE["persons"])
        self.search("search: 氏名＋生年月日", name=person["surname"], birth_date=person["birth_date"])

    @task(4)
    def detail(self) -> None:
        person = random.choice(SAMPLE["persons"])
        self.client.get(SAMPLE["detail_url"].format(pk=person["pk"]), name="detail")
