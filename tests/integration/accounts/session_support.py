"""Test support, run in a child process with a child's environment: create a test-only user with the
given roles and sign them in through the real login service, writing the session token file.

    python session_support.py USERNAME ROLE[,ROLE...] [--no-step-up]

The user is written with the ORM so that a test-only operator may combine roles that production
refuses to combine (the service :func:`jutaku.accounts.users.check_roles` forbids it); the sign-in
itself (password, TOTP, terminal, OS user and login session, session, token file) is the production path,
and so is the step-up that follows it (password and the next step's code, AUTH-09) unless
``--no-step-up``: the session may then run the step-up commands for ``JUTAKU_STEP_UP_MINUTES``.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta


def main(username: str, roles: str, step_up: bool = True) -> None:
    from jutaku.bootstrap import setup_django

    setup_django()
    import pyotp
    from django.db import transaction
    from django.utils import timezone

    from jutaku import config
    from jutaku.accounts import auth, passwords, sessions, tokenfile, totp
    from jutaku.accounts.models import RoleGrant, User
    from jutaku.clikit import cli_terminal, token_path

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
    cfg, here = config.get(), cli_terminal()
    opened = auth.login(username, password, code, terminal=here.address, production=cfg.is_production,
                        binding=here.binding)
    token = opened.token
    if step_up:
        live = sessions.resolve_session(token, terminal=here.address, production=cfg.is_production,
                                        binding=here.binding)
        later = pyotp.TOTP(enrolment.secret).at(int(time.time()) + 30)  # the next step: codes are single use
        token = auth.step_up(live, password, later, production=cfg.is_production)
    tokenfile.write(token_path(cfg, here), token)
    print(enrolment.secret)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], step_up="--no-step-up" not in sys.argv[3:])
