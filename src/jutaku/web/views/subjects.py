"""開示請求: disclosure, correction and suspension requests and their reports."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401

urlpatterns: list[URLPattern] = []
