"""Deny by default: every `jutaku` command declares exactly one Permission (AUTHZ-01)."""

from __future__ import annotations

from collections.abc import Iterator

import click

from jutaku.accounts.permissions import Permission
from jutaku.cli import build


def walk(group: click.Group, prefix: str = "jutaku") -> Iterator[tuple[str, click.Command]]:
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            yield from walk(cmd, path)
        else:
            yield path, cmd


def test_every_command_declares_a_permission() -> None:
    missing = [path for path, cmd in walk(build()) if not isinstance(
        getattr(cmd.callback, "__jutaku_permission__", None), Permission)]
    assert missing == []


def test_the_command_tree_is_not_empty() -> None:
    # Guards the test above against passing on an empty tree.
    assert len(list(walk(build()))) >= 2


def test_every_command_permission_is_held_by_some_role_except_setup_simulator_and_services() -> None:
    """A permission no role holds would make its command unusable (or tempt a bypass)."""
    from jutaku.accounts.permissions import Permission, reachable
    from jutaku.clikit import NO_HOME

    unreachable = [path for path, cmd in walk(build())
                   if cmd.callback.__jutaku_permission__ not in reachable() | NO_HOME | {Permission.SERVICE_RUN}]  # type: ignore[union-attr]
    assert unreachable == []


def test_only_setup_simulator_login_logout_and_the_services_run_without_a_session() -> None:
    """`step-up` is declared like login and logout (SESSION_SELF) and finds its live session itself."""
    from jutaku.clikit import NO_SESSION

    free = sorted(path for path, cmd in walk(build()) if cmd.callback.__jutaku_permission__ in NO_SESSION)  # type: ignore[union-attr]
    assert [p for p in free if not p.startswith("jutaku sim ")] == [
        "jutaku demo", "jutaku init", "jutaku login", "jutaku logout", "jutaku serve", "jutaku step-up",
        "jutaku worker"]


def test_no_code_outside_accounts_compares_role_names() -> None:
    import re
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "src" / "jutaku"
    names = "registrar|inquirer|supervisor|security_admin|auditor|operations"
    pattern = re.compile(rf"\bRole\.[A-Z_]+|\.roles\b|(==|!=|\bin)\s*[\"']({names})[\"']|[\"']({names})[\"']\s*(==|!=|in\b)")
    offenders = [str(p.relative_to(src)) for p in src.rglob("*.py")
                 if "accounts" not in p.relative_to(src).parts and "migrations" not in p.parts
                 and pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
