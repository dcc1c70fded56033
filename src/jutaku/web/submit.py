"""Starting a task from a view: the one way screens hand work to ``jutaku worker``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from jutaku.domain import free_text
from jutaku.jobs import queue
from jutaku.web.access import forbidden
from jutaku.web.tasks import all_kinds

#: Labels of the text parameters screens hand to tasks, for the refusal of one holding a My Number.
_PARAM_LABELS = {"reason": "依頼理由", "note": "説明", "object": "対象"}


class UploadRefused(ValueError):
    """The uploaded file cannot be taken (missing, wrong kind of file, too large); message in Japanese."""


def start(request: HttpRequest, kind_name: str, *, params: Mapping[str, Any] | None = None,
          upload_field: str = "file") -> HttpResponse:
    """Queue ``kind_name`` for the signed-in user (its permission checked now and again when it runs) and
    go to the task's page. Raises :class:`UploadRefused` for a bad upload (the caller shows the form
    again with the message)."""
    kind = all_kinds()[kind_name]
    actor = request.actor  # type: ignore[attr-defined]
    if not actor.can(kind.permission):
        return forbidden(request, "この処理を実行する権限がありません。")
    for name, value in (params or {}).items():  # kept with the task until it runs: never a My Number
        if isinstance(value, str):
            free_text.check(value, _PARAM_LABELS.get(name, "入力"), UploadRefused)
    upload = upload_name = ""
    if kind.upload_suffixes:
        incoming = request.FILES.get(upload_field)
        if incoming is None or not incoming.size:
            raise UploadRefused("ファイルを選択してください。")
        suffix = PurePath(incoming.name or "").suffix.lower()
        if suffix not in kind.upload_suffixes:
            raise UploadRefused(f"このファイルの種類は取り込めません（{'、'.join(kind.upload_suffixes)} のみ）。")
        try:
            upload = queue.save_upload(incoming.chunks(), suffix)
        except ValueError as exc:
            raise UploadRefused("ファイルが大きすぎます。") from exc
        upload_name = incoming.name or ""
    task = queue.submit(kind_name, actor=actor, params=params, upload=upload, upload_name=upload_name)
    return HttpResponseRedirect(reverse("web:task", args=[task.pk]))
