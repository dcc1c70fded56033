"""対象者検索・対象者詳細 (search-first; number search by POST only, audited; masked number, unmask with step-up)."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401

urlpatterns: list[URLPattern] = []
