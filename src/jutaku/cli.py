"""The `jutaku` command. It parses, resolves the actor and calls services; nothing more.

Command groups live beside their package (``jutaku.<package>.commands``) and are attached here.
"""

from __future__ import annotations

import importlib

import click

#: (module, attribute) of each top-level command or group, in the order `jutaku --help` lists them.
COMMANDS = [
    ("jutaku.system_commands", "init"),
    ("jutaku.system_commands", "demo"),
    ("jutaku.registry.commands", "import_group"),
    ("jutaku.registry.commands", "register_group"),
    ("jutaku.audit.commands", "audit"),
    ("jutaku.crypto.commands", "keys"),
    ("jutaku.jobs.commands", "jobs"),
    ("jutaku.exchange.commands", "media"),
    ("jutaku.sim.commands", "sim"),
]


def build() -> click.Group:
    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(package_name="jutaku")
    def jutaku() -> None:
        """都営住宅マイナンバー管理システム (Jutaku)."""

    for module, attr in COMMANDS:
        jutaku.add_command(getattr(importlib.import_module(module), attr))
    return jutaku


def main() -> None:
    from jutaku.bootstrap import setup_django

    setup_django()
    build()(prog_name="jutaku")
