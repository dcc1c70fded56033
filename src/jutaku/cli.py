"""The `jutaku` command. It parses, resolves the actor and calls services; nothing more.

Command groups live beside their package (``jutaku.<package>.commands``) and are attached here.
An unexpected error fails closed (REL-05): the open transaction is rolled back by the service, the
user sees a generic message with an incident id and what the command's jobs had committed (chunks
committed before the error stay; :mod:`jutaku.jobs.failures`), and the traceback goes to a private log
file in the home (mode 0600), never to the terminal, where it could show data.
"""

from __future__ import annotations

import importlib
import sys

import click

from jutaku.incidents import log_incident

#: (module, attribute) of each top-level command or group, in the order `jutaku --help` lists them.
COMMANDS = [
    ("jutaku.system_commands", "init"),
    ("jutaku.system_commands", "demo"),
    ("jutaku.accounts.commands", "login"),
    ("jutaku.accounts.commands", "logout"),
    ("jutaku.accounts.commands", "step_up"),
    ("jutaku.accounts.commands", "password_command"),
    ("jutaku.accounts.commands", "users"),
    ("jutaku.accounts.admin_commands", "terminals"),
    ("jutaku.accounts.admin_commands", "approvals"),
    ("jutaku.accounts.admin_commands", "install"),
    ("jutaku.registry.commands", "import_group"),
    ("jutaku.registry.commands", "register_group"),
    ("jutaku.registry.commands", "numbers_group"),
    ("jutaku.registry.person_commands", "persons_group"),
    ("jutaku.registry.list_commands", "lists"),
    ("jutaku.allowlist.commands", "allowlist"),
    ("jutaku.linkage.commands", "linkage"),
    ("jutaku.linkage.commands", "inquiry"),
    ("jutaku.linkage.export_commands", "export"),
    ("jutaku.juki.commands", "juki"),
    ("jutaku.retention.commands", "delete"),
    ("jutaku.stats.commands", "stats"),
    ("jutaku.subjects.commands", "requests_group"),
    ("jutaku.retention.backup_commands", "backup_cmd"),
    ("jutaku.retention.backup_commands", "restore_cmd"),
    ("jutaku.audit.commands", "audit"),
    ("jutaku.crypto.commands", "keys"),
    ("jutaku.jobs.commands", "jobs"),
    ("jutaku.exchange.commands", "media"),
    ("jutaku.exchange.commands", "outputs"),
    ("jutaku.web.commands", "serve"),
    ("jutaku.web.commands", "worker"),
    ("jutaku.sim.commands", "sim"),
]
EXIT_INTERNAL = 1


def build() -> click.Group:
    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(package_name="jutaku")
    def jutaku() -> None:
        """都営住宅マイナンバー管理システム (Jutaku)."""

    for module, attr in COMMANDS:
        jutaku.add_command(getattr(importlib.import_module(module), attr))
    return jutaku


#: Every file and folder a `jutaku` process creates is its owner's alone, also those made by libraries
#: (SQLite's database and journal files, matplotlib, pg_dump): a backstop behind the writers' own 0600.
UMASK = 0o077


def main() -> None:
    import os

    from jutaku.bootstrap import setup_django

    os.umask(UMASK)
    setup_django()
    from jutaku.jobs.runner import job_observer

    jobs: list[int] = []  # every job this command starts, resumes or finds done
    job_observer.set(jobs.append)
    try:
        build()(prog_name="jutaku", standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:
        incident = log_incident(exc)
        click.echo(internal_error_message(incident, exc, jobs), err=True)
        sys.exit(EXIT_INTERNAL)


def internal_error_message(incident: str, exc: BaseException, jobs: list[int]) -> str:
    """Never claims a rollback that did not happen: committed chunks stay, and the message says which."""
    from jutaku.jobs.failures import committed_summary

    return (f"内部エラーが発生しました (incident {incident}, {type(exc).__name__})。処理を中止しました。"
            f"{committed_summary(jobs)} Internal error: the command stopped; what its jobs had committed "
            "stays committed (jutaku jobs list).")
