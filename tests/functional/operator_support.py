"""The person at the console, for the tests that run documented command blocks as written (the first-install
runbook, the README's "Using it"): what they type at each prompt.

:class:`Operator` knows each account's password and holds each account's authenticator app (enrolled from the
otpauth URI that ``init`` / ``users create`` printed). At a sign-in it types the password and the app's current
code and — at the first sign-in of an account an administrator created (issue 14 item 14) — a new password of
its own, which it remembers; a command that re-authenticates (step-up) gets the password and a new code again.
Codes are single use: the next one is a step after the last the server accepted (read from the database), and
the operator waits for it when it is not due yet, as a person would.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyotp

from tests.conftest import child_query

SECRET = re.compile(r"secret=([A-Z2-7]+)")
STEP_UP_SECONDS = 4 * 60  # JUTAKU_STEP_UP_MINUTES (5), less a margin for the command's own start


@dataclass
class Operator:
    """Runs ``jutaku`` command lines in ``cwd`` with ``env`` and answers their prompts."""

    env: dict[str, str]
    cwd: Path
    passwords: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    must_change: set[str] = field(default_factory=set)  # accounts whose password an administrator set
    outputs: list[tuple[str, str]] = field(default_factory=list)
    signed_in: str | None = None
    stepped_up_at: float | None = None  # the signed-in session's last re-authentication (time.time())

    def password(self, username: str) -> str:
        return self.passwords.setdefault(username, f"first week synthetic passphrase {len(self.passwords) + 1}")

    def own_password(self, username: str) -> str:
        """The password the user chooses at their first sign-in (never the one the administrator typed)."""
        return f"{username} chose this synthetic passphrase"

    def code(self, username: str) -> str:
        """The app's next code the server has not accepted yet (a step after the last one it accepted)."""
        assert username.replace(".", "").replace("_", "").isalnum()  # safe to inline
        rows = child_query(self.database_env(), "SELECT d.last_t FROM otp_totp_totpdevice d JOIN accounts_user u "
                                     f"ON u.id = d.user_id WHERE u.username = '{username}'")
        last = int(rows[0][0]) if rows and rows[0][0] is not None else -1
        step = max(int(time.time()) // 30, last + 1)
        while step > int(time.time()) // 30 + 1:  # two sign-ins within one step: wait for the next code
            time.sleep(1)
        return pyotp.TOTP(self.secrets[username]).at(step * 30)

    def database_env(self) -> dict[str, str]:
        """The environment naming the home's database for :func:`tests.conftest.child_query` (a relative
        ``JUTAKU_HOME`` is the commands', relative to ``cwd``)."""
        return {**self.env, "JUTAKU_HOME": str((self.cwd / self.env.get("JUTAKU_HOME", "var/jutaku")).resolve())}

    def stdin_for(self, args: list[str]) -> str | None:
        """What the person types for the command ``jutaku <args>``."""
        if args[:1] == ["init"] and "--admin" in args:
            return self.password(args[args.index("--admin") + 1]) + "\n"
        if args[:2] in (["users", "create"], ["users", "reset-password"]):
            return self.password(args[2]) + "\n"
        if args[:1] == ["login"]:
            user = args[args.index("--user") + 1]
            typed = f"{self.password(user)}\n{self.code(user)}\n"
            return typed + (f"{self.own_password(user)}\n" if user in self.must_change else "")
        if args[:1] == ["password"] and self.signed_in:
            return f"{self.password(self.signed_in)}\n{self.own_password(self.signed_in)}\n"
        if self.signed_in and asks_for_step_up(args) and not self.fresh():  # the password and a new code again
            return f"{self.password(self.signed_in)}\n{self.code(self.signed_in)}\n"
        return None

    def fresh(self) -> bool:
        """The session re-authenticated recently enough that the command will not ask (5 minutes, less a margin)."""
        return self.stepped_up_at is not None and time.time() - self.stepped_up_at < STEP_UP_SECONDS

    def run(self, line: list[str], *, shell: str | None = None) -> str:
        """Run ``line`` (``jutaku ...``, already split) with this interpreter's ``-m jutaku`` or, with ``shell``,
        that text through bash (``jutaku`` from ``PATH``); it must exit 0. Returns its output."""
        assert line[0] == "jutaku", line
        args = line[1:]
        stdin = self.stdin_for(args)
        command = ["bash", "-c", shell] if shell is not None else [*_JUTAKU, *args]
        t0 = time.time()
        proc = subprocess.run(command, env=self.env, cwd=self.cwd, text=True, input=stdin, capture_output=True,
                              timeout=600)
        assert proc.returncode == 0, f"{shlex.join(line)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        if "再認証:" in proc.stderr or args[:1] == ["step-up"]:
            self.stepped_up_at = t0
        self.after(args, proc.stdout)
        self.outputs.append((shlex.join(line), proc.stdout + proc.stderr))
        return proc.stdout

    def after(self, args: list[str], stdout: str) -> None:
        """What the person learns from a command that succeeded."""
        if args[:1] in (["login"], ["logout"]):
            self.stepped_up_at = None
        if args[:1] == ["login"]:
            self.signed_in = args[args.index("--user") + 1]
            if self.signed_in in self.must_change:  # they chose their own password at this sign-in
                self.must_change.discard(self.signed_in)
                self.passwords[self.signed_in] = self.own_password(self.signed_in)
        elif args[:1] == ["logout"]:
            self.signed_in = None
        elif args[:1] == ["password"] and self.signed_in:
            self.passwords[self.signed_in] = self.own_password(self.signed_in)
        if (args[:1] == ["init"] and "--admin" in args) or args[:2] == ["users", "create"]:
            name = args[args.index("--admin") + 1] if args[0] == "init" else args[2]
            found = SECRET.search(stdout)
            assert found, stdout
            self.secrets[name] = found.group(1)
        if args[:2] in (["users", "create"], ["users", "reset-password"]):
            self.must_change.add(args[2])

    def output_of(self, prefix: str) -> str:
        return next(out for cmd, out in self.outputs if cmd.startswith(prefix))


_JUTAKU = [sys.executable, "-m", "jutaku"]


def asks_for_step_up(args: list[str]) -> bool:
    """The command re-authenticates its user first (AUTH-09, ADR 0018): it declares a step-up action."""
    import click

    from jutaku.cli import build

    command: click.Command = build()
    for arg in args:
        if not isinstance(command, click.Group) or arg not in command.commands:
            break
        command = command.commands[arg]
    return getattr(command.callback, "__jutaku_step_up__", None) is not None
