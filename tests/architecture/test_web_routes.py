"""Every route of the web UI declares its access (AUTHZ-01, WEB-02, WEB-03; issue 7 item 4).

Walks the URL map: each view names exactly one Permission (or is one of the public sign-in pages), its
HTTP methods, and no route takes a 12-digit parameter (a My Number never travels in a URL)."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver

from jutaku.accounts.permissions import Permission, reachable
from jutaku.web.access import access_of

PUBLIC = {"web:login"}


def routes(patterns: list[URLPattern | URLResolver] | None = None, prefix: str = "", ns: str = "") -> list[
        tuple[str, str, object]]:
    out = []
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            out += routes(p.url_patterns, prefix + str(p.pattern), f"{ns}{p.namespace}:" if p.namespace else ns)
        else:
            out.append((prefix + str(p.pattern), f"{ns}{p.name}", p.callback))
    return out


def test_the_url_map_is_not_empty() -> None:
    assert len(routes()) >= 8


def test_every_route_declares_its_access() -> None:
    undeclared = [name for _, name, view in routes() if access_of(view) is None]
    assert undeclared == []


def test_only_the_sign_in_page_is_public() -> None:
    public = {name for _, name, view in routes() if access_of(view).permission is None}  # type: ignore[union-attr]
    assert public == PUBLIC


def test_declared_permissions_are_real_and_held_by_some_role() -> None:
    for _, name, view in routes():
        spec = access_of(view)
        assert spec is not None
        if spec.permission is not None:
            assert isinstance(spec.permission, Permission) and spec.permission in reachable(), name


def test_every_route_names_its_methods_and_none_allows_a_write_by_get_alone() -> None:
    for _, name, view in routes():
        spec = access_of(view)
        assert spec is not None and spec.methods and set(spec.methods) <= {"GET", "POST"}, name


def test_no_route_carries_a_number_shaped_parameter() -> None:
    for pattern, name, _ in routes():
        assert not re.search(r"\d{12}", pattern), name
        assert "number" not in pattern.lower(), name  # no <my_number> converters
