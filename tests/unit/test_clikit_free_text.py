"""A command whose input holds a My Number is refused (exit 2) with a clear message, never an internal
error (issue 13 item 1; ADR 0020): the service's own refusal, or — should an input check be missing — the
audit writer's guard, which the user then meets as the same kind of refusal."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from jutaku.accounts.permissions import Permission
from jutaku.audit.guard import MyNumberInAudit
from jutaku.clikit import EXIT_REFUSED, requires
from jutaku.domain import free_text

NUMBER = "123456789018"


def command(error: Exception) -> click.Command:
    @click.command()
    @requires(Permission.SIM_RUN)  # needs no home: the wrapper alone is under test
    def refused() -> None:
        raise error

    return refused


@pytest.mark.parametrize(("error", "shown"), [
    (free_text.MyNumberInText(free_text.message("理由")), "理由に個人番号"),
    (MyNumberInAudit("監査記録に個人番号らしき値は記録できません"), free_text.REFUSED_LATE),
])
def test_a_number_in_an_input_is_a_refusal(error: Exception, shown: str) -> None:
    result = CliRunner().invoke(command(error), [])
    assert result.exit_code == EXIT_REFUSED and shown in result.output and NUMBER not in result.output


def test_other_value_errors_are_not_swallowed() -> None:
    result = CliRunner().invoke(command(ValueError("other")), [])
    assert result.exit_code == 1 and isinstance(result.exception, ValueError)
