"""A command's refusal of a file says what the file is and names the command that imports it; every
refusal is printed as it is, Japanese first (issue 14 item 6, ADR 0028)."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from jutaku.accounts.permissions import Permission
from jutaku.cli import build
from jutaku.clikit import EXIT_REFUSED, IMPORT_COMMANDS, Refused, requires
from jutaku.formats import sniff
from jutaku.formats.errors import FileRejected
from jutaku.formats.layouts import LAYOUTS
from tests.architecture.test_permissions_declared import walk


def test_every_import_has_its_command_and_every_command_takes_a_file() -> None:
    imports = {name for name, layout in LAYOUTS.items() if layout.direction == "import"} | {sniff.ALLOWLIST}
    assert set(IMPORT_COMMANDS) == imports
    commands = dict(walk(build()))
    for command in IMPORT_COMMANDS.values():
        assert command in commands, command
        assert "file" in {p.name for p in commands[command].params}, command


def refusing(error: FileRejected) -> click.Command:
    @click.command()
    @click.argument("file", type=click.Path(path_type=Path))
    @requires(Permission.SIM_RUN)  # needs no home: the message alone is under test
    def load(file: Path) -> None:
        raise Refused(str(error)) from error

    return load


def test_a_file_of_another_import_is_pointed_to_its_command() -> None:
    error = FileRejected("R_HEADER", what="このファイルは「住基ネット 本人確認情報 照会結果」のファイルです",
                         belongs_to="juki-result")
    result = CliRunner().invoke(refusing(error), ["answers.csv"])
    assert result.exit_code == EXIT_REFUSED
    assert result.output.startswith("拒否 (refused): [R_HEADER] このファイルは「住基ネット 本人確認情報 照会結果」")
    assert result.output.rstrip().endswith("→ このファイルの取込: jutaku juki import answers.csv")
    assert "Error:" not in result.output


def test_a_request_file_is_pointed_to_the_import_of_its_answer() -> None:
    error = FileRejected("R_HEADER", belongs_to="inquiry-request")
    result = CliRunner().invoke(refusing(error), ["req.csv"])
    assert result.output.rstrip().endswith("→ 情報照会結果の取込: jutaku inquiry import <ファイル>")


def test_a_list_for_staff_has_no_command() -> None:
    result = CliRunner().invoke(refusing(FileRejected("R_HEADER", belongs_to="rejections")), ["list.csv"])
    assert "→" not in result.output
