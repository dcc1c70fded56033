"""Test settings: the only place test defaults live (a throw-away home, test mode)."""

import os
import tempfile

os.environ["JUTAKU_MODE"] = "test"
os.environ.setdefault("JUTAKU_HOME", tempfile.mkdtemp(prefix="jutaku-test-home-"))

from jutaku.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; Argon2 is tested explicitly

if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    # One test database per test process, so concurrent runs on one server never collide.
    DATABASES["default"]["TEST"] = {"NAME": f"test_jutaku_{os.getpid()}"}  # noqa: F405
