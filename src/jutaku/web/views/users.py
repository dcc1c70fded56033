"""利用者管理 (security_admin): users, roles, terminals, the annual access review."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401

urlpatterns: list[URLPattern] = []
