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
