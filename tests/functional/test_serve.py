"""`jutaku serve` and `jutaku worker` as processes (issue 7 item 1): gunicorn serves the application with
its security headers and static files on a free port; production refuses to start without TLS; the worker
runs queued tasks and stops. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import JUTAKU, ROOT, run_jutaku

pytestmark = pytest.mark.subprocess


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - our loopback server
        return r.status, dict(r.headers), r.read()


def test_serve_runs_the_application_under_gunicorn(child_home: dict[str, str], tmp_path: Path) -> None:
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([*JUTAKU, "serve", "--port", str(port), "--workers", "2"], env=child_home, cwd=ROOT,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                status, headers, body = _get(f"http://127.0.0.1:{port}/login/?next=/persons/%3Fkana%3D%E3%83%88")
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("jutaku serve did not answer")
        assert status == 200 and "ログイン" in body.decode()
        assert "script-src 'self'" in headers["Content-Security-Policy"] and headers["Cache-Control"] == "no-store"
        css = _get(f"http://127.0.0.1:{port}/static/web/app.css")
        assert css[0] == 200 and b"--brand" in css[2]
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    logged = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert "GET /login/" in logged and "kana" not in logged  # the access log carries no query string


def test_production_refuses_to_serve_without_tls(child_home: dict[str, str]) -> None:
    proc = run_jutaku({**child_home, "JUTAKU_MODE": "production"}, "serve", "--port", str(_free_port()), timeout=60)
    assert proc.returncode == 2 and "TLS" in proc.stderr


def test_worker_once_runs_the_queue_and_stops(child_home: dict[str, str]) -> None:
    proc = run_jutaku(child_home, "worker", "--once", timeout=120)
    assert proc.returncode == 0 and "0 件の処理を実行しました" in proc.stdout
    assert os.path.isdir(child_home["JUTAKU_HOME"])
