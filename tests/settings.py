"""Test settings: the only place test defaults live (a throw-away home, test mode)."""

import os
import tempfile

os.environ["JUTAKU_MODE"] = "test"
if os.environ.get("PYTEST_XDIST_WORKER"):
    # A worker inherits the controller's environment, home included: each worker gets its own home, or two
    # workers share its job locks, outputs and keys (an in-process import refused as "another job running").
    os.environ["JUTAKU_HOME"] = tempfile.mkdtemp(prefix=f"jutaku-test-home-{os.environ['PYTEST_XDIST_WORKER']}-")
else:
    os.environ.setdefault("JUTAKU_HOME", tempfile.mkdtemp(prefix="jutaku-test-home-"))

from jutaku.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; Argon2 is tested explicitly

if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    # One test database per test process, so concurrent runs on one server never collide.
    DATABASES["default"]["TEST"] = {"NAME": f"test_jutaku_{os.getpid()}"}  # noqa: F405
