"""The one message of a refusal for want of a permission (issue 14 item 6, ADR 0028): it names the roles
that hold the permission in Japanese, the user's own, and whom to ask — never a permission's code."""

from __future__ import annotations

import pytest

from jutaku.accounts.permissions import (
    EXCLUSIVE_ROLES,
    ROLE_LABELS,
    ROLE_PERMISSIONS,
    Permission,
    Role,
    holders,
    reachable,
    refusal_text,
)


@pytest.mark.parametrize("permission", sorted(reachable()), ids=str)
def test_every_permission_names_the_roles_that_hold_it(permission: Permission) -> None:
    text = refusal_text(permission, ["registrar"] if permission not in ROLE_PERMISSIONS[Role.REGISTRAR] else [])
    roles = holders((permission,))
    assert roles == tuple(r for r in Role if permission in ROLE_PERMISSIONS[r])
    assert all(ROLE_LABELS[r] in text for r in roles)
    assert permission.value not in text  # names, never internal codes
    assert "依頼してください" in text


def test_a_registrar_asking_to_import_results_is_sent_to_the_security_administrator() -> None:
    assert refusal_text(Permission.LINKAGE_RUN, ["registrar"], what="このコマンド") == (
        "このコマンドには「照会担当」のロールが必要です（あなたのロール: 番号登録担当）。"
        "必要な場合は、セキュリティ管理者にロールの付与を依頼してください。")


def test_a_role_held_alone_sends_the_work_to_its_holders() -> None:
    """Separation of duties (AUTHZ-06): an auditor cannot be given a registrar's role, nor a registrar the
    security administrator's; the message says so instead of sending them to ask for it."""
    auditor = refusal_text(Permission.REGISTRY_IMPORT, ["auditor"])
    assert "監査担当は他のロールと兼務できないため（職務の分離）、番号登録担当の職員に依頼してください。" in auditor
    admin_work = refusal_text(Permission.USERS_MANAGE, ["registrar"])
    assert "セキュリティ管理者は他のロールと兼務できないため" in admin_work
    assert all(r in EXCLUSIVE_ROLES for r in holders((Permission.USERS_MANAGE,)))


def test_several_permissions_any_of_which_would_do() -> None:
    text = refusal_text((Permission.REGISTRY_IMPORT, Permission.INQUIRY_IMPORT), [], what="この画面")
    assert text.startswith("この画面には「番号登録担当・照会担当」のいずれかのロールが必要です（あなたのロール: なし）。")


def test_a_permission_no_role_holds_is_said_to_be_the_systems() -> None:
    assert "どのロールにも割り当てられていません" in refusal_text(Permission.SYSTEM_INIT, ["registrar"])
