"""監査: search the audit trail, verify the chain, export for auditors; jobs and media ledger."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401

urlpatterns: list[URLPattern] = []
