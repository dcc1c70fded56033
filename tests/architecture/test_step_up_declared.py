"""One step-up rule on both pathways (AUTH-09, issue 13 item 11, ADR 0018): the CLI commands and the web views
that perform an action of :class:`StepUp` declare it, with that action's permission, and both pathways declare
the same actions except the two that exist on one pathway only."""

from __future__ import annotations

from jutaku.accounts.permissions import STEP_UP_PERMISSIONS, Permission, StepUp
from jutaku.cli import build
from jutaku.web.access import access_of
from tests.architecture.test_permissions_declared import walk
from tests.architecture.test_web_routes import routes

#: Only the CLI changes a registered number (個人番号変更届); only the web shows one in full.
ONE_PATHWAY = {StepUp.NUMBER_CHANGE: "cli", StepUp.NUMBER_UNMASK: "web"}
#: Permissions that exist only to perform their step-up action (USERS_MANAGE also lists, creates, disables).
DEDICATED = frozenset(STEP_UP_PERMISSIONS.values()) - {Permission.USERS_MANAGE}


def cli_commands() -> list[tuple[str, Permission, StepUp | None]]:
    return [(path, cmd.callback.__jutaku_permission__, cmd.callback.__jutaku_step_up__)  # type: ignore[union-attr]
            for path, cmd in walk(build())]


def web_views() -> list[tuple[str, Permission | None, StepUp | None, tuple[str, ...]]]:
    out = []
    for _, name, view in routes():
        spec = access_of(view)
        assert spec is not None
        out.append((name, spec.permission, spec.step_up, spec.methods))
    return out


def test_a_declared_step_up_goes_with_its_actions_permission() -> None:
    wrong = [path for path, permission, action in cli_commands()
             if action is not None and STEP_UP_PERMISSIONS[action] is not permission]
    wrong += [name for name, permission, action, _ in web_views()
              if action is not None and STEP_UP_PERMISSIONS[action] is not permission]
    assert wrong == []


def test_every_command_and_every_writing_view_of_a_dedicated_permission_asks_for_a_step_up() -> None:
    missing = [path for path, permission, action in cli_commands() if permission in DEDICATED and action is None]
    missing += [name for name, permission, action, methods in web_views()
                if permission in DEDICATED and "POST" in methods and action is None]
    assert missing == []


def test_role_changes_ask_for_a_step_up_on_both_pathways() -> None:
    assert dict((p, a) for p, _, a in cli_commands())["jutaku users roles"] is StepUp.ROLE_CHANGE
    assert dict((n, a) for n, _, a, _ in web_views())["web:user-roles"] is StepUp.ROLE_CHANGE


def test_both_pathways_declare_the_same_actions() -> None:
    on_cli = {a for _, _, a in cli_commands() if a is not None}
    on_web = {a for _, _, a, _ in web_views() if a is not None}
    assert on_cli | on_web == set(StepUp)
    assert on_cli - on_web == {a for a, where in ONE_PATHWAY.items() if where == "cli"}
    assert on_web - on_cli == {a for a, where in ONE_PATHWAY.items() if where == "web"}
    # ... and those really exist on one pathway only: no way round the step-up through the other one.
    assert not any(p is STEP_UP_PERMISSIONS[StepUp.NUMBER_CHANGE] for _, p, _, _ in web_views())
    assert not any(p is STEP_UP_PERMISSIONS[StepUp.NUMBER_UNMASK] for _, p, _ in cli_commands())
