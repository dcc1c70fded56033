"""Starting a task from a view: the one way screens hand work to ``jutaku worker``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from jutaku.accounts.errors import refusal
from jutaku.accounts.permissions import ROLE_LABELS, holders
from jutaku.domain import free_text
from jutaku.exchange import inbound
from jutaku.formats import sniff
from jutaku.jobs import queue
from jutaku.web.access import forbidden
from jutaku.web.tasks import Kind, all_kinds

#: Labels of the text parameters screens hand to tasks, for the refusal of one holding a My Number.
_PARAM_LABELS = {"reason": "依頼理由", "note": "説明", "object": "対象"}


class UploadRefused(ValueError):
    """The uploaded file cannot be taken (none chosen, empty, another form's file, wrong kind of file, too
    large); message in Japanese: what happened and what to do. ``link_url``/``link_label``: the way to the
    form the file belongs to, when there is one for the user."""

    def __init__(self, message: str, *, link_url: str = "", link_label: str = "") -> None:
        super().__init__(message)
        self.link_url = link_url
        self.link_label = link_label


def _form_link(kind: Kind) -> str:
    url_name, anchor = kind.form
    return reverse(url_name) + (f"#{anchor}" if anchor else "") if url_name else ""


def _another_form(kind: Kind, found: sniff.Identified, actor: Any, name: str) -> UploadRefused | None:
    """The refusal of a file recognised as not this form's, naming what it is and offering its form."""
    if kind.layout is None or found.kind == "empty" or found.known == kind.layout:
        return None
    if found.kind == "media" and name.lower().endswith(".enc"):
        return None  # encrypted under another key, or damaged: the task says so (R_MANIFEST_HASH)
    if found.known is None and found.kind not in ("zip", "media", "manifest"):
        return None  # nothing recognised: the task's own checks say what is wrong with it
    if found.kind == "zip" and kind.layout == sniff.PORTAL:
        return None
    what = f"{sniff.describe(found)}（この欄は「{kind.label}」用です）。"
    goes = sniff.destination(found.known) if found.known else (sniff.PORTAL if found.kind == "zip" else None)
    target = next((k for k in all_kinds().values() if goes and k.layout == goes), None)
    if target is None or found.kind in ("media", "manifest"):
        return UploadRefused(what + sniff.advice(found))
    if goes != found.known:
        what += f"相手方から届いた回答のファイル（「{sniff.title(goes or '')}」）を指定してください。"
    if not actor.can(target.permission):
        who = "・".join(ROLE_LABELS[r] for r in holders((target.permission,)))
        return UploadRefused(what + f"「{target.label}」は{who}の職員が行います。ファイルを担当の方に渡してください。")
    if goes == found.known:
        what += f"「{target.label}」の欄から取り込んでください。"
    return UploadRefused(what, link_url=_form_link(target), link_label=f"「{target.label}」へ")


def start(request: HttpRequest, kind_name: str, *, params: Mapping[str, Any] | None = None,
          upload_field: str = "file") -> HttpResponse:
    """Queue ``kind_name`` for the signed-in user (its permission checked now and again when it runs) and
    go to the task's page. Raises :class:`UploadRefused` for a bad upload (the caller shows the form
    again with the message)."""
    kind = all_kinds()[kind_name]
    actor = request.actor  # type: ignore[attr-defined]
    if not actor.can(kind.permission):
        return forbidden(request, refusal(actor, kind.permission, what=f"「{kind.label}」"))
    for name, value in (params or {}).items():  # kept with the task until it runs: never a My Number
        if isinstance(value, str):
            free_text.check(value, _PARAM_LABELS.get(name, "入力"), UploadRefused)
    upload = upload_name = ""
    if kind.upload_suffixes:
        incoming = request.FILES.get(upload_field)
        if incoming is None:
            raise UploadRefused("ファイルが選択されていません。取り込むファイルを選んでから、もう一度実行してください。")
        if not incoming.size:
            raise UploadRefused(f"アップロードされたファイルが空です（0 バイト）: {free_text.shown(incoming.name or '')}。"
                                "作成元のファイルに中身があるか確認してから、選び直してください。")
        wrong = _another_form(kind, inbound.identify(incoming), actor, incoming.name or "")
        if wrong is not None:
            raise wrong
        suffix = PurePath(incoming.name or "").suffix.lower()
        if suffix not in kind.upload_suffixes:
            raise UploadRefused(f"このファイルの種類は取り込めません（{'、'.join(kind.upload_suffixes)} のみ）。"
                                "ファイル名の拡張子を確認してください。")
        try:
            upload = queue.save_upload(incoming.chunks(), suffix)
        except ValueError as exc:
            raise UploadRefused("ファイルが大きすぎます。") from exc
        upload_name = incoming.name or ""
    task = queue.submit(kind_name, actor=actor, params=params, upload=upload, upload_name=upload_name)
    return HttpResponseRedirect(reverse("web:task", args=[task.pk]))
