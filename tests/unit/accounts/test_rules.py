"""Pure rules of the accounts package: the role table, named accounts, source addresses (AUTH-01,
AUTHZ-01, NET-01). The CLI's terminal: tests/unit/accounts/test_cliterminal.py."""

from __future__ import annotations

import pytest

from jutaku.accounts import network
from jutaku.accounts.naming import InvalidUsername, check_username
from jutaku.accounts.permissions import (
    PERSONAL_DATA,
    ROLE_PERMISSIONS,
    Permission,
    Role,
    permissions_of,
    reachable,
)


@pytest.mark.parametrize("role", [Role.SECURITY_ADMIN, Role.AUDITOR, Role.OPERATIONS])
def test_no_personal_data_permission_for_the_three_non_personal_roles(role: Role) -> None:
    assert ROLE_PERMISSIONS[role] & PERSONAL_DATA == frozenset()


def test_every_permission_but_setup_simulator_and_services_is_held_by_some_role() -> None:
    assert set(Permission) - reachable() == {Permission.SYSTEM_INIT, Permission.SIM_RUN, Permission.SERVICE_RUN}


def test_the_business_roles_hold_their_functions() -> None:
    assert Permission.NUMBERS_REGISTER in permissions_of(["registrar"])
    assert Permission.INQUIRY_CREATE in permissions_of(["inquirer"])
    assert {Permission.NUMBERS_UNMASK, Permission.DELETION_APPROVE} <= permissions_of(["supervisor"])
    assert Permission.USERS_MANAGE in permissions_of(["security_admin"])
    assert permissions_of(["nonsense"]) == frozenset()


@pytest.mark.parametrize("name", ["admin", "root", "test", "user", "operator", "guest", "admin01", "test-1",
                                  "_root", "Tanaka", "ab", "1abc", "x" * 40, "a b"])
def test_generic_or_malformed_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidUsername):
        check_username(name)


@pytest.mark.parametrize("name", ["tanaka.h", "kosha-sato01", "suzuki_m"])
def test_personal_names_pass(name: str) -> None:
    assert check_username(name) == name


PROXY = ["10.0.0.5/32"]


@pytest.mark.parametrize(("remote", "xff", "client"), [
    ("10.1.2.3", None, "10.1.2.3"),
    ("10.1.2.3", "10.1.2.77", "10.1.2.3"),  # an untrusted peer's header is ignored
    ("10.0.0.5", "10.1.2.77", "10.1.2.77"),
    ("10.0.0.5", "10.1.2.77, 10.0.0.5", "10.1.2.77"),
    ("10.0.0.5", "127.0.0.1, 10.9.9.9", "10.9.9.9"),  # a spoofed left-most entry is ignored
    ("10.0.0.5", "not-an-ip", network.UNKNOWN),
    ("nonsense", None, network.UNKNOWN),
])
def test_forwarded_for_is_believed_only_from_a_trusted_proxy(remote: str, xff: str | None, client: str) -> None:
    assert network.web_client(remote, xff, PROXY) == client


def test_allowed_matches_addresses_and_networks() -> None:
    nets = ["127.0.0.1/32", "::1/128", "10.1.2.0/24", "bogus"]
    assert network.allowed("10.1.2.200", nets) and network.allowed("::1", nets)
    assert not network.allowed("10.1.3.1", nets) and not network.allowed(network.UNKNOWN, nets)
    assert not network.allowed("nonsense", nets)
