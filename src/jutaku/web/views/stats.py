"""統計: suppressed statistics with charts; 許可リスト (the legal allow-list)."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401

urlpatterns: list[URLPattern] = []
