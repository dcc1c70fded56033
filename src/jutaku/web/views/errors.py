"""Error pages in Japanese (no stack trace, no data, the same page for "missing" and "not yours")."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "web/error.html", {
        "title": "操作を受け付けられませんでした",
        "message": "画面の有効期限が切れたか、正しい画面からの操作ではありません。画面を開き直してからもう一度操作してください。",
    }, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/error.html", {"title": "見つかりません",
                                              "message": "指定されたものは存在しないか、参照できません。"}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "web/error.html", {
        "title": "処理できませんでした",
        "message": "システムで問題が発生しました。操作は反映されていません。時間をおいてもう一度試し、続く場合は管理者に連絡してください。",
        "bare": True}, status=500)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/error.html", {"title": "要求を処理できません", "message": "入力を確認してください。",
                                              "bare": True}, status=400)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/error.html", {
        "title": "権限がありません",
        "message": "この操作の権限がありません。必要な場合は、セキュリティ管理者にロールの付与を依頼してください。"},
        status=403)
