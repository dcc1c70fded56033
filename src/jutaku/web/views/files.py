"""ファイル取込 / ファイル作成: uploads and file creation as tasks for the worker (issue 7 item 3).

Each form posts to its own URL, declared with the permission of its function; the pages show only the
forms the user's roles allow. The work itself is a task (:mod:`jutaku.web.task_kinds.files`) calling
the CLI's services; the task page shows its progress, outcome table and the files to download. The
business export is asked for here (a dual-control request) and, once another supervisor approved it,
run from here by the person who asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import URLPattern, path, reverse

from jutaku.accounts.errors import AccountsError
from jutaku.accounts.models import Approval, ApprovalState
from jutaku.accounts.permissions import Permission
from jutaku.allowlist.names import current
from jutaku.allowlist.service import active_rules
from jutaku.domain import free_text
from jutaku.domain.wareki import jst_date
from jutaku.linkage.export import export_requests, request_export
from jutaku.web import submit
from jutaku.web.access import not_found, requires
from jutaku.web.task_kinds.files import ENCODINGS

_P = Permission
YEARS = range(2000, 2101)
PROCEDURE_CODE = re.compile(r"[A-Z]{2}[0-9]{14}")


@dataclass(frozen=True)
class UploadForm:
    """One upload form of the import page: the task it starts and who may use it."""

    key: str
    title: str
    kind: str
    permission: Permission
    accept: str
    hint: str
    encoding: bool = True

    @property
    def url_name(self) -> str:
        return f"web:files-import-{self.key}"


IMPORTS = {f.key: f for f in (
    UploadForm("targets", "対象者抽出", "import-targets", _P.REGISTRY_IMPORT, ".csv,.enc",
               "都住システムの対象者抽出ファイル（CSV。暗号化媒体は .enc）。個人IDごとに登録・更新します。"),
    UploadForm("procedures", "手続抽出", "import-procedures", _P.REGISTRY_IMPORT, ".csv,.enc",
               "都住システムの手続抽出ファイル（照会同意・不開示希望を含む）。"),
    UploadForm("kit", "個人番号届出データ", "register-kit", _P.NUMBERS_REGISTER, ".csv,.enc",
               "収集委託先の届出データ（.csv または暗号化された .enc）。誤りのある行は差戻リストに出力します。"),
    UploadForm("portal", "マイナポータル申請データ", "register-portal", _P.NUMBERS_REGISTER, ".zip",
               "マイナポータル（LoGoフォーム）からダウンロードしたZIPファイル。", encoding=False),
    UploadForm("linkage", "統合利用番号取得結果", "linkage-import", _P.LINKAGE_RUN, ".csv,.enc",
               "連携サーバからの回答ファイル。該当なし・エラーは要確認リストに出力します。"),
    UploadForm("inquiry", "情報照会結果", "inquiry-import", _P.INQUIRY_IMPORT, ".csv,.enc",
               "情報照会の回答ファイル。登録内容との相違は届出勧奨リストに出力します。"),
    UploadForm("juki", "住基ネット照会結果", "juki-import", _P.JUKI_IMPORT, ".csv,.enc",
               "住基ネットの回答ファイル。死亡を記録し、転居・氏名変更などは届出勧奨リストに出力します。"),
)}


def fiscal_year() -> int:
    today = jst_date(datetime.now(UTC))
    return today.year if today.month >= 4 else today.year - 1


def procedure_choices() -> list[tuple[str, str]]:
    """(手続コード, 手続名) of the active allow-list: only these may be inquired about or exported."""
    return sorted({(r.procedure_code, r.procedure_name) for r in active_rules()})


def _checked(data: QueryDict, name: str) -> bool:
    return data.get(name) == "1"


def _year(data: QueryDict) -> int | None:
    raw = (data.get("year") or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and int(raw) in YEARS else None


def _procedure(data: QueryDict) -> str | None:
    code = (data.get("procedure") or "").strip()
    return code if PROCEDURE_CODE.fullmatch(code) and code in dict(procedure_choices()) else None


# --- ファイル取込 -------------------------------------------------------------------------------------

def _import_page(request: HttpRequest, *, errors: dict[str, str | submit.UploadRefused] | None = None,
                 status: int = 200) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    forms = [{"f": f, "error": (errors or {}).get(f.key, "")} for f in IMPORTS.values() if actor.can(f.permission)]
    return render(request, "web/files/import.html", {"title": "ファイル取込", "forms": forms}, status=status)


def _start_upload(request: HttpRequest, key: str) -> HttpResponse:
    form = IMPORTS[key]
    encoding = request.POST.get("encoding", "")
    params = {"dry_run": _checked(request.POST, "dry_run"),
              "encoding": encoding if form.encoding and encoding in ENCODINGS else ""}
    try:
        return submit.start(request, form.kind, params=params)
    except submit.UploadRefused as exc:
        return _import_page(request, errors={key: exc}, status=400)


#: The permissions of the forms of each page: a page is for whoever may use one of them.
IMPORT_PERMISSIONS = (_P.REGISTRY_IMPORT, _P.NUMBERS_REGISTER, _P.LINKAGE_RUN, _P.INQUIRY_IMPORT, _P.JUKI_IMPORT)
CREATE_PERMISSIONS = (_P.LINKAGE_RUN, _P.INQUIRY_CREATE, _P.JUKI_CREATE, _P.EXPORT_BUSINESS)


@requires(_P.JOBS_VIEW, any_of=IMPORT_PERMISSIONS)
def import_page(request: HttpRequest) -> HttpResponse:
    return _import_page(request)


@requires(_P.REGISTRY_IMPORT, methods=("POST",))
def import_targets(request: HttpRequest) -> HttpResponse:
    return _start_upload(request, "targets")


@requires(_P.REGISTRY_IMPORT, methods=("POST",))
def import_procedures(request: HttpRequest) -> HttpResponse:
    return _start_upload(request, "procedures")


@requires(_P.NUMBERS_REGISTER, methods=("POST",))
def import_kit(request: HttpRequest) -> HttpResponse:
    return _start_upload(request, "kit")


@requires(_P.NUMBERS_REGISTER, methods=("POST",))
def import_portal(request: HttpRequest) -> HttpResponse:
    return _start_upload(request, "portal")


@requires(_P.LINKAGE_RUN, methods=("POST",))
def import_linkage(request: HttpRequest) -> HttpResponse:
    return _start_upload(request, "linkage")


@requires(_P.INQUIRY_IMPORT, methods=("POST",))
def import_inquiry(request: HttpRequest) -> HttpResponse:
    return _start_upload(request, "inquiry")


@requires(_P.JUKI_IMPORT, methods=("POST",))
def import_juki(request: HttpRequest) -> HttpResponse:
    return _start_upload(request, "juki")


# --- ファイル作成 -------------------------------------------------------------------------------------

def _create_page(request: HttpRequest, *, errors: dict[str, str] | None = None, form: dict[str, Any] | None = None,
                 status: int = 200) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    can = {"linkage": actor.can(_P.LINKAGE_RUN), "inquiry": actor.can(_P.INQUIRY_CREATE),
           "juki": actor.can(_P.JUKI_CREATE), "export": actor.can(_P.EXPORT_BUSINESS)}
    return render(request, "web/files/create.html", {
        "title": "ファイル作成", "can": can, "errors": errors or {}, "form": form or {},
        "year": fiscal_year(), "procedures": procedure_choices() if can["inquiry"] or can["export"] else [],
        "exports": _with_names(export_requests(actor=actor)) if can["export"] else [],
        "approved": ApprovalState.APPROVED}, status=status)


def _with_names(requests: list[Approval]) -> list[tuple[Approval, str]]:
    """Each export request with the name of its procedure (the payload holds the code)."""
    names = current()
    return [(a, names.procedure(str(a.payload.get("procedure", "")))) for a in requests]


@requires(_P.JOBS_VIEW, any_of=CREATE_PERMISSIONS)
def create_page(request: HttpRequest) -> HttpResponse:
    return _create_page(request)


@requires(_P.LINKAGE_RUN, methods=("POST",))
def create_linkage(request: HttpRequest) -> HttpResponse:
    return submit.start(request, "linkage-request", params={"plain": _checked(request.POST, "plain")})


@requires(_P.INQUIRY_CREATE, methods=("POST",))
def create_inquiry(request: HttpRequest) -> HttpResponse:
    procedure, year = _procedure(request.POST), _year(request.POST)
    if procedure is None or year is None:
        return _create_page(request, errors={"inquiry": "手続と年度（2000〜2100）を選択・入力してください。"},
                            form=request.POST.dict(), status=400)
    return submit.start(request, "inquiry-create", params={
        "procedure": procedure, "year": year, "plain": _checked(request.POST, "plain")})


@requires(_P.JUKI_CREATE, methods=("POST",))
def create_juki(request: HttpRequest) -> HttpResponse:
    year = _year(request.POST)
    if year is None:
        return _create_page(request, errors={"juki": "年度（2000〜2100）を入力してください。"}, status=400)
    return submit.start(request, "juki-request", params={"year": year, "plain": _checked(request.POST, "plain")})


def _export_refused(request: HttpRequest, message: str) -> HttpResponse:
    form = {k: free_text.refill(str(v)) for k, v in request.POST.dict().items()}  # ADR 0020: never shown again
    return _create_page(request, errors={"export": message}, form=form, status=400)


@requires(_P.EXPORT_BUSINESS, methods=("POST",))
def request_business_export(request: HttpRequest) -> HttpResponse:
    procedure, year = _procedure(request.POST), _year(request.POST)
    reason = (request.POST.get("reason") or "").strip()
    if procedure is None or year is None or not reason or len(reason) > 500:
        return _export_refused(request, "手続・年度・依頼理由（500字以内）を入力してください。")
    try:
        approval = request_export(procedure, year, actor=request.actor, reason=reason)  # type: ignore[attr-defined]
    except AccountsError as exc:
        return _export_refused(request, str(exc))
    messages.success(request, f"承認依頼 #{approval.pk} を作成しました。別の責任者が承認すると、この画面から実行できます。")
    return HttpResponseRedirect(reverse("web:files-create"))


@requires(_P.EXPORT_BUSINESS, methods=("POST",))
def run_business_export(request: HttpRequest, approval_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if not any(a.pk == approval_id and a.state == ApprovalState.APPROVED for a in export_requests(actor=actor)):
        return not_found(request)  # not the user's own approved request: the same 404 as a missing one
    return submit.start(request, "business-export", params={
        "approval_id": approval_id, "plain": _checked(request.POST, "plain")})


urlpatterns: list[URLPattern] = [
    path("files/import/", import_page, name="files-import"),
    path("files/import/targets/", import_targets, name="files-import-targets"),
    path("files/import/procedures/", import_procedures, name="files-import-procedures"),
    path("files/import/kit/", import_kit, name="files-import-kit"),
    path("files/import/portal/", import_portal, name="files-import-portal"),
    path("files/import/linkage/", import_linkage, name="files-import-linkage"),
    path("files/import/inquiry/", import_inquiry, name="files-import-inquiry"),
    path("files/import/juki/", import_juki, name="files-import-juki"),
    path("files/create/", create_page, name="files-create"),
    path("files/create/linkage/", create_linkage, name="files-create-linkage"),
    path("files/create/inquiry/", create_inquiry, name="files-create-inquiry"),
    path("files/create/juki/", create_juki, name="files-create-juki"),
    path("files/create/export/", request_business_export, name="files-export-request"),
    path("files/create/export/<int:approval_id>/run/", run_business_export, name="files-export-run"),
]
