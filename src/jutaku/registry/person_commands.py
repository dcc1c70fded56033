"""`jutaku persons ...`: one person's non-disclosure flag and a supervisor's status correction.

- ``persons non-disclosure set ID --reason``: set the flag at once (registrar, supervisor);
- ``persons non-disclosure clear ID --reason``: ask for it to be cleared (supervisor); a different
  supervisor approves with ``jutaku approvals approve N`` (dual control);
- ``persons correct-status ID --status 1|2|3 --reason [--status-date]``: replace a death recorded from
  Juki-net (supervisor).

The services (:mod:`jutaku.registry.non_disclosure`, :mod:`jutaku.registry.status`) check the permission
again, validate the reason and audit in the same transaction; a refusal exits 2 with its reason.
"""

from __future__ import annotations

from datetime import date

import click

from jutaku.accounts.permissions import Permission, StepUp
from jutaku.clikit import Refused, current_actor, requires

_REASON = click.option("--reason", required=True,
                       help="Why (理由, 4–200 characters; recorded in the audit trail). Never put a number here.")


@click.group(name="persons")
def persons_group() -> None:
    """One person's non-disclosure flag (不開示) and status corrections (状態の訂正)."""


@persons_group.group(name="non-disclosure")
def non_disclosure_group() -> None:
    """不開示 (DV etc.): set at once; clearing needs a second supervisor's approval."""


@non_disclosure_group.command(name="set")
@click.argument("person_id")
@_REASON
@requires(Permission.NON_DISCLOSURE_SET)
def set_cmd(person_id: str, reason: str) -> None:
    """Set the person's non-disclosure flag: every later inquiry carries 不開示コード 2."""
    from jutaku.registry.non_disclosure import Refused as ServiceRefused
    from jutaku.registry.non_disclosure import set_non_disclosure

    try:
        result = set_non_disclosure(person_id, actor=current_actor(), reason=reason)
    except ServiceRefused as exc:
        raise Refused(str(exc)) from exc
    if result.changed:
        click.echo(f"個人ID {person_id}: 不開示を設定しました（以後の情報照会は不開示コード2）")
    else:
        click.echo(f"個人ID {person_id}: 不開示は設定済みです（申出を記録しました）")


@non_disclosure_group.command(name="clear")
@click.argument("person_id")
@_REASON
@requires(Permission.NON_DISCLOSURE_CLEAR)
def clear_cmd(person_id: str, reason: str) -> None:
    """Ask for the person's non-disclosure flag to be cleared (another supervisor approves)."""
    from jutaku.registry.non_disclosure import Refused as ServiceRefused
    from jutaku.registry.non_disclosure import request_clear

    try:
        approval = request_clear(person_id, actor=current_actor(), reason=reason)
    except ServiceRefused as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"個人ID {person_id}: 不開示の解除を依頼しました（承認依頼 #{approval.pk}）。"
               f"別の責任者が jutaku approvals approve {approval.pk} で承認すると解除されます。")


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if not value:
        return None
    from jutaku.domain.wareki import InvalidDate, parse_date

    try:
        return parse_date(value)
    except InvalidDate as exc:
        raise click.BadParameter("YYYYMMDD") from exc


@persons_group.command(name="correct-status")
@click.argument("person_id")
@click.option("--status", "new_status", required=True, type=click.Choice(["1", "2", "3"]),
              help="The corrected 状態: 1 有効, 2 退去, 3 辞退・不合格.")
@click.option("--status-date", default=None, callback=_date, help="状態日付 YYYYMMDD (default: none).")
@_REASON
@requires(Permission.PERSON_STATUS_CORRECT, step_up=StepUp.STATUS_CORRECTION)
def correct_status_cmd(person_id: str, new_status: str, status_date: date | None, reason: str) -> None:
    """Replace a death recorded from Juki-net (supervisor, with a reason)."""
    from jutaku.formats.layouts import STATUS
    from jutaku.registry.non_disclosure import Refused as ServiceRefused
    from jutaku.registry.status import correct_status

    try:
        result = correct_status(person_id, new_status, actor=current_actor(), reason=reason, status_date=status_date)
    except ServiceRefused as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"個人ID {person_id}: 状態を「{STATUS[result.old_status]}」から「{STATUS[result.new_status]}」に訂正しました")
