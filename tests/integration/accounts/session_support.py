"""Test support, run in a child process with a child's environment: create a test-only user with the
given roles and sign them in through the real login service, writing the session token file.

    python session_support.py USERNAME ROLE[,ROLE...]

The user is written with the ORM so that a test-only operator may combine roles that production
refuses to combine (the service :func:`jutaku.accounts.users.check_roles` forbids it); the sign-in
itself (password, TOTP, terminal, session, token file) is the production path.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta


def main(username: str, roles: str) -> None:
    from jutaku.bootstrap import setup_django

    setup_django()
    import pyotp
    from django.db import transaction
    from django.utils import timezone

    from jutaku import config
    from jutaku.accounts import auth, passwords, tokenfile, totp
    from jutaku.accounts.models import RoleGrant, User

    password = "test operator passphrase 2026"
    now = timezone.now()
    with transaction.atomic():
        user = User.objects.create(
            username=username, full_name="試験 操作者", staff_id=f"T-{username}", organisation="bureau",
            start_date=timezone.localdate() - timedelta(days=1), end_date=timezone.localdate() + timedelta(days=30),
            created_at=now, created_by="pytest", password=passwords.hash_password(password))
        for role in roles.split(","):
            RoleGrant.objects.create(user=user, role=role, granted_at=now, granted_by="pytest")
        enrolment = totp.enrol(user)
    code = pyotp.TOTP(enrolment.secret).now()
    cfg = config.get()
    opened = auth.login(username, password, code, terminal="127.0.0.1", production=cfg.is_production)
    tokenfile.write(tokenfile.path_for(cfg.home, os.environ), opened.token)
    print(enrolment.secret)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
