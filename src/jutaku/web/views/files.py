"""ファイル取込 / ファイル作成: uploads and file creation as tasks for the worker."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401

urlpatterns: list[URLPattern] = []
