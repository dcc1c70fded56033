"""Production settings pass Django's deployment checks with warnings as errors (WEB-01, issue 7 item 1),
and the production web server refuses to start without TLS."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _production_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUTAKU_", "DJANGO_"))}
    return env | {"JUTAKU_MODE": "production", "JUTAKU_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}


def test_manage_check_deploy_is_clean_in_production_mode(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING",
                           "--settings=jutaku.settings"], env=_production_env(tmp_path), capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout


def test_the_production_settings_are_strict(tmp_path: Path) -> None:
    code = ("import django, json; django.setup(); from django.conf import settings as s; print(json.dumps(["
            "s.SESSION_COOKIE_NAME, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_NAME, s.CSRF_COOKIE_SECURE, "
            "s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, s.DEBUG]))")
    env = _production_env(tmp_path) | {"DJANGO_SETTINGS_MODULE": "jutaku.settings"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)
    name, secure, csrf_name, csrf_secure, hsts, redirect, debug = __import__("json").loads(out.stdout)
    assert name.startswith("__Host-") and csrf_name.startswith("__Host-") and secure and csrf_secure
    assert hsts >= 31_536_000 and redirect and debug is False
