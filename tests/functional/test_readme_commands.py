"""The README's "Using it" works as printed on a fresh clone (issue 14 item 13), on SQLite and PostgreSQL.

The block between ``<!-- readme-test:begin -->`` and ``<!-- readme-test:end -->`` is run line by line, in
order, through bash, in a folder standing for a fresh clone after ``make install`` (its ``.venv`` is this test
run's virtual environment) and with no ``jutaku`` on ``PATH`` until the block's own ``source
.venv/bin/activate`` puts it there. ``export`` lines and ``source`` change the environment of the lines after
them, as in a shell. At each prompt the test types what the person would
(:class:`tests.functional.operator_support.Operator`: passwords, the authenticator app's codes, a new password
at a first sign-in). The only text it replaces is the ``<time>`` placeholder of the restore line, by the file
``backup run`` printed. Every ``jutaku`` line of every ``sh`` block of the section is checked for commands and
options that exist, and the table of who may run what against the roles' permissions (every command is in it).

The test scaffolding a person does not see: ``JUTAKU_MODE=test`` and the login record of this test process as
the console (tests/conftest.py), the database of the PostgreSQL tier (``JUTAKU_DATABASE_URL``), and ``HOME``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest

from jutaku.domain import leakscan
from tests.conftest import ROOT, child_query
from tests.functional.operator_support import Operator

pytestmark = [pytest.mark.subprocess, pytest.mark.slow]
README = ROOT / "README.md"
BEGIN, END = "<!-- readme-test:begin -->", "<!-- readme-test:end -->"
SH_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)
BACKUP_PRINTED = re.compile(r"バックアップ: (\S+)")


def using_it() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Using it\n")
    return text[start:text.index("\n## ", start + 1)]


def readme_block(section: str) -> list[str]:
    """The lines of the marked block, comments and blank lines left out."""
    assert section.count(BEGIN) == 1 and section.count(END) == 1, "one tested block in 'Using it'"
    [block] = SH_BLOCK.findall(section[section.index(BEGIN):section.index(END)])
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def every_command(section: str) -> list[list[str]]:
    """Every ``jutaku`` command line of every ``sh`` block of the section, split as the shell would."""
    lines = [line for block in SH_BLOCK.findall(section) for line in block.splitlines()]
    return [words for words in (shlex.split(line, comments=True) for line in lines) if words[:1] == ["jutaku"]]


def test_every_command_in_using_it_exists_with_its_options() -> None:
    from jutaku.cli import build

    root = build()
    commands = every_command(using_it())
    assert len(commands) > 60
    for words in commands:
        command: click.Command = root
        rest = words[1:]
        while isinstance(command, click.Group):
            assert rest and rest[0] in command.commands, f"no such command: {shlex.join(words)}"
            command, rest = command.commands[rest[0]], rest[1:]
        options = {opt: p for p in command.params if isinstance(p, click.Option) for opt in p.opts}
        arguments = [p for p in command.params if isinstance(p, click.Argument)]
        value_of: click.Option | None = None
        for word in rest:
            if value_of is not None:
                value_of = None
            elif word.startswith("-"):
                assert word in options, f"{shlex.join(words)}: no option {word}"
                value_of = None if options[word].is_flag else options[word]
            else:
                assert arguments, f"{shlex.join(words)}: {command.name} takes no argument {word}"


@pytest.fixture
def fresh_clone(child_env: dict[str, str], tmp_path: Path) -> Operator:
    """A folder standing for a fresh clone after `make install`, and a person at its console."""
    venv = ROOT / ".venv" if (ROOT / ".venv" / "bin" / "activate").exists() else Path(sys.prefix)
    if not (venv / "bin" / "activate").exists() or not (venv / "bin" / "jutaku").exists():
        pytest.skip("the tests do not run in a virtual environment with the jutaku command (make install)")
    clone = tmp_path / "clone"
    clone.mkdir()
    (clone / ".venv").symlink_to(venv)
    home = tmp_path / "person"
    home.mkdir(mode=0o700)
    path = os.pathsep.join(d for d in child_env.get("PATH", "/usr/bin:/bin").split(os.pathsep)
                           if d and not (Path(d) / "jutaku").exists())
    env = {k: v for k, v in child_env.items() if k not in ("JUTAKU_HOME", "VIRTUAL_ENV", "PYTHONPATH")}
    return Operator({**env, "HOME": str(home), "PATH": path}, clone)


def test_using_it_runs_as_written(fresh_clone: Operator) -> None:
    person = fresh_clone
    for line in readme_block(using_it()):
        words = shlex.split(line, comments=True)
        if words[0] != "jutaku":
            person.env = _shell_environment(line, person)
            continue
        if "restore" in words[:2]:
            printed = BACKUP_PRINTED.search(person.output_of("jutaku backup run"))
            assert printed, "backup run printed its file"
            line = re.sub(r"\S*<time>\S*", printed.group(1), line)
            words = shlex.split(line, comments=True)
        person.run(words, shell=line)

    assert person.env["JUTAKU_HOME"] == "./var/jutaku"
    assert (person.cwd / "var" / "jutaku" / "keys").is_dir()  # the README's home, where it said
    assert "設置期間: 終了" in person.output_of("jutaku install status")
    assert "承認依頼 #1" in person.output_of("jutaku users create takahashi.y")
    assert "承認依頼 #3" in person.output_of("jutaku export business request")
    stats = person.output_of("jutaku stats")
    assert not re.search(r"(?i)glyph|findfont|font", stats), stats  # the plots say nothing about fonts
    assert sorted(p.name for p in (person.cwd / "var" / "out" / "plots").iterdir()) == [
        "inquiry-progress.svg", "registration-progress.svg"]
    out = person.cwd / "var" / "out"
    assert (out / "business.csv.enc").stat().st_size > 0 and not (out / "business.csv").exists()
    assert (out / "disclosure-2.html").exists()  # --plain: printed for the person
    truth = (person.cwd / "var" / "world" / "truth" / "juki.csv").read_text(encoding="utf-8-sig")
    numbers = [row.split(",")[1] for row in truth.splitlines()[1:]]
    assert len(numbers) == 1000 and not leakscan.contains_any((out / "business.csv.enc").read_bytes(), numbers)
    changed = {u for (u,) in child_query(person.database_env(), "SELECT username FROM accounts_user "
                                                     "WHERE password_must_change")}
    assert changed == set()  # everyone who signed in chose their own password at the first sign-in
    decided = dict(child_query(person.database_env(), "SELECT id, decided_by FROM accounts_approval"))
    assert decided == {1: "kato.r", 2: "takahashi.y", 3: "takahashi.y"}


def _shell_environment(line: str, person: Operator) -> dict[str, str]:
    """The environment after ``line`` (``source``, ``export``) in bash, in the clone."""
    proc = subprocess.run(["bash", "-c", f"{line}\nenv -0"], env=person.env, cwd=person.cwd, capture_output=True,
                          timeout=60)
    assert proc.returncode == 0, f"{line} exited {proc.returncode}\n{proc.stderr.decode()}"
    pairs = (entry.split("=", 1) for entry in proc.stdout.decode().split("\0") if "=" in entry)
    return dict(pairs)  # type: ignore[arg-type]


ROLE_ROW = re.compile(r"^\| ([a-z_ ]+?) \| (`.*) \|$", re.M)


def test_the_table_of_who_may_run_what_is_the_permission_table() -> None:
    from jutaku.accounts.permissions import ROLE_PERMISSIONS, Role
    from jutaku.cli import build

    root = build()
    rows = {role: re.findall(r"`([^`]+)`", cells) for role, cells in ROLE_ROW.findall(using_it())}
    assert set(rows) == {"every role", "no session", *(r.value for r in Role)}
    listed: set[str] = set()
    for role, names in rows.items():
        for name in names:
            command: click.Command = root
            for word in name.split():
                assert isinstance(command, click.Group) and word in command.commands, name
                command = command.commands[word]
            for leaf_path, leaf in _leaves(command, name):
                listed.add(leaf_path)
                permission = leaf.callback.__jutaku_permission__  # type: ignore[union-attr]
                holders = {r.value for r, granted in ROLE_PERMISSIONS.items() if permission in granted}
                if role == "every role":
                    assert holders == {r.value for r in Role}, leaf_path
                elif role == "no session":
                    assert holders == set(), leaf_path
                else:
                    assert role in holders, f"{role} may not run {leaf_path}"
    every = {path for path, _ in _leaves(root, "")} - {"demo"}  # `make demo` runs it
    assert every <= listed, f"not in the table: {sorted(every - listed)}"


def _leaves(command: click.Command, path: str) -> list[tuple[str, click.Command]]:
    if not isinstance(command, click.Group):
        return [(path, command)]
    return [leaf for name, sub in command.commands.items() for leaf in _leaves(sub, f"{path} {name}".strip())]
