"""Task kinds of ファイル取込 / ファイル作成: every import and file creation of the CLI, run by the worker.

Each runner calls the same service as its CLI command (``jutaku import|register|linkage|inquiry|juki|
export``) and writes the same lists the command writes — the rejection list (差戻リスト) of an import with
rejected rows, the follow-up list of a result import, the notice list (届出勧奨リスト) of an inquiry,
Juki-net or targets import, the exclusion list of an inquiry file — into the task's own folder, offered once
to the user who started it. Files holding specific personal information (linkage, inquiry, Juki-net, business
export) are encrypted unless the user explicitly asks for plain text (``plain``, audited), as in the CLI.
A file refused whole (``FileRejected``) fails the task with its Japanese message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jutaku.accounts.permissions import Permission
from jutaku.formats.layouts import NOTICE_LIST, REJECTIONS
from jutaku.formats.manifest import manifest_path_for
from jutaku.jobs.runner import JobResult
from jutaku.jobs.worker import TaskContext, TaskFailed, TaskOutcome
from jutaku.web.tasks import kind

_P = Permission
ENCODINGS = ("utf-8", "cp932")
CSV_UPLOAD = (".csv", ".enc")


def _form(key: str) -> tuple[str, str]:
    """Where the upload form ``key`` of ファイル取込 is (web/files/import.html: a section per form)."""
    return "web:files-import", f"{key}-h"


def _upload(ctx: TaskContext) -> Path:
    if ctx.upload is None or not ctx.upload.is_file():
        raise TaskFailed("取り込むファイルがありません。もう一度アップロードしてください。")
    return ctx.upload


def _dry_run(ctx: TaskContext) -> bool:
    return bool(ctx.params.get("dry_run"))


def _encoding(ctx: TaskContext) -> str | None:
    value = ctx.params.get("encoding")
    return value if value in ENCODINGS else None


def _drop_manifest(path: Path) -> None:
    """A list for staff is offered alone: its manifest (count and hash only) is not kept in the folder."""
    manifest_path_for(path).unlink(missing_ok=True)


def _offer_list(ctx: TaskContext, job_id: int, name: str, label: str) -> int:
    """The rows of ``job_id`` that need follow-up (its rejection records), written and offered — as CSV and
    as an Excel workbook with the outcome table (to sort and filter; ADR 0022)."""
    from jutaku.registry.lists import write_rejections_xlsx
    from jutaku.registry.rejections import write_rejections
    from jutaku.reports.xlsx import WorkbookRefused

    path, info = write_rejections(job_id, ctx.out / f"{name}-{job_id}.csv", actor=ctx.actor)
    _drop_manifest(path)
    ctx.offer(path, label, _P.REJECTIONS_VIEW)
    try:
        workbook, _ = write_rejections_xlsx(job_id, ctx.out / f"{name}-{job_id}.xlsx", actor=ctx.actor)
    except WorkbookRefused:  # longer than a workbook takes: the CSV is the list
        return info.rows
    # named apart from the CSV's label: "差戻リスト Excel版", "要確認リスト Excel版" …
    ctx.offer(workbook, f"{label.split('（')[0]} Excel版", _P.REJECTIONS_VIEW)
    return info.rows


def _unwritten(job: JobResult, interface: str) -> bool:
    """A list still to write: a new job's, or a completed file's whose run stopped before writing it (a task
    a dead worker left running is run again; issue 13 item 7). One written once is not written again."""
    from jutaku.exchange.outputs import earlier_output

    return not job.duplicate or earlier_output(job.job_id, interface) is None


def _import_message(result: Any, dry_run: bool) -> str:
    job: JobResult = result.job
    if job.duplicate:
        return f"このファイルは取込済みです（ジョブ #{job.job_id}）。変更はありません。"
    text = f"{result.rows:,} 行を処理しました（ジョブ #{job.job_id}）。"
    return text + ("ドライランのため何も変更していません。" if dry_run else "")


def _run_import(ctx: TaskContext, service: Callable[..., Any], *, name: str, settled: frozenset[str],
                list_label: str, labels: Mapping[str, str] | None = None, **options: Any) -> tuple[Any, TaskOutcome]:
    """The frame of every import (as the CLI's): the service, then the list of rows not settled."""
    dry_run = _dry_run(ctx)
    result = service(_upload(ctx), actor=ctx.actor, dry_run=dry_run, progress=False, **options)
    job: JobResult = result.job
    message = _import_message(result, dry_run)
    if not dry_run and any(code not in settled for code in job.counts) and _unwritten(job, REJECTIONS.name):
        rows = _offer_list(ctx, job.job_id, name, list_label)
        message += f"{list_label}（{rows:,} 件）を作成しました。"
    return result, TaskOutcome(summary=job.counts, message=message, labels=dict(labels or {}))


@kind("import-targets", "対象者抽出の取込", _P.REGISTRY_IMPORT, upload=CSV_UPLOAD,
      layout="targets", form=_form("targets"))
def targets_task(ctx: TaskContext) -> TaskOutcome:
    from jutaku.registry.targets import KIND, OUTCOMES, import_targets, write_notice_list

    result, outcome = _run_import(ctx, import_targets, name=f"rejections-{KIND}",
                                  settled=frozenset({"OK", "U01", "I01", "S01"}), list_label="差戻リスト",
                                  labels=OUTCOMES, encoding=_encoding(ctx))
    return _with_notices(ctx, result, outcome, write_notice_list, "notices-targets", _P.REGISTRY_IMPORT)


@kind("import-procedures", "手続抽出の取込", _P.REGISTRY_IMPORT, upload=CSV_UPLOAD,
      layout="procedures", form=_form("procedures"))
def procedures_task(ctx: TaskContext) -> TaskOutcome:
    from jutaku.registry.procedures import KIND, OUTCOMES, import_procedures

    return _run_import(ctx, import_procedures, name=f"rejections-{KIND}", settled=frozenset({"OK", "U01", "I01"}),
                       list_label="差戻リスト", labels=OUTCOMES, encoding=_encoding(ctx))[1]


def _register(ctx: TaskContext, source: str, encoding: str | None) -> TaskOutcome:
    from functools import partial

    from jutaku.formats.layouts import REGISTRATION_OUTCOME
    from jutaku.registry.registration import KINDS, register_numbers

    service = partial(register_numbers, source=source)
    return _run_import(ctx, service, name=f"rejections-{KINDS[source]}", settled=frozenset({"OK", "I01"}),
                       list_label="差戻リスト", labels=REGISTRATION_OUTCOME, encoding=encoding)[1]


@kind("register-kit", "個人番号届出データの登録", _P.NUMBERS_REGISTER, upload=CSV_UPLOAD,
      layout="kit", form=_form("kit"))
def register_kit(ctx: TaskContext) -> TaskOutcome:
    return _register(ctx, "kit", _encoding(ctx))


@kind("register-portal", "マイナポータル申請データの登録", _P.NUMBERS_REGISTER, upload=(".zip",),
      layout="portal", form=_form("portal"))
def register_portal(ctx: TaskContext) -> TaskOutcome:
    return _register(ctx, "portal", None)


@kind("linkage-import", "統合利用番号取得結果の取込", _P.LINKAGE_RUN, upload=CSV_UPLOAD,
      layout="linkage-result", form=_form("linkage"))
def linkage_import(ctx: TaskContext) -> TaskOutcome:
    from jutaku.domain.linkage import LABELS
    from jutaku.linkage.results import KIND, import_linkage_results

    return _run_import(ctx, import_linkage_results, name=f"rejections-{KIND}", settled=frozenset({"OK"}),
                       list_label="要確認リスト（差戻・該当なし・エラー）", labels=LABELS, encoding=_encoding(ctx))[1]


def _with_notices(ctx: TaskContext, result: Any, outcome: TaskOutcome,
                  write: Callable[..., tuple[Path, Any] | None], name: str, permission: Permission) -> TaskOutcome:
    """The notice list (届出勧奨リスト) of a result import that changed something, when any answer disagreed."""
    job: JobResult = result.job
    if _dry_run(ctx) or not _unwritten(job, NOTICE_LIST.name):
        return outcome
    notices = write(job.job_id, ctx.out / f"{name}-{job.job_id}.csv", actor=ctx.actor)
    if notices is None:
        return outcome
    _drop_manifest(notices[0])
    ctx.offer(notices[0], "届出勧奨リスト", permission)
    return TaskOutcome(outcome.summary, outcome.message + f"届出勧奨リスト（{notices[1].rows:,} 件）を作成しました。",
                       labels=outcome.labels)


@kind("inquiry-import", "情報照会結果の取込", _P.INQUIRY_IMPORT, upload=CSV_UPLOAD,
      layout="inquiry-result", form=_form("inquiry"))
def inquiry_import(ctx: TaskContext) -> TaskOutcome:
    from jutaku.domain.inquiry import OUTCOME_LABELS
    from jutaku.linkage.inquiry_results import KIND, import_inquiry_results, write_notice_list

    result, outcome = _run_import(ctx, import_inquiry_results, name=f"rejections-{KIND}",
                                  settled=frozenset({"OK", "N01", "N02"}), list_label="要確認リスト（差戻・エラー）",
                                  labels=OUTCOME_LABELS, encoding=_encoding(ctx))
    return _with_notices(ctx, result, outcome, write_notice_list, "notices", _P.INQUIRY_IMPORT)


@kind("juki-import", "住基ネット照会結果の取込", _P.JUKI_IMPORT, upload=CSV_UPLOAD,
      layout="juki-result", form=_form("juki"))
def juki_import(ctx: TaskContext) -> TaskOutcome:
    from jutaku.domain.juki import LABELS
    from jutaku.juki.results import KIND, import_juki_results, write_notice_list

    result, outcome = _run_import(ctx, import_juki_results, name=f"rejections-{KIND}",
                                  settled=frozenset({"OK", "D02"}), list_label="要確認リスト", labels=LABELS,
                                  encoding=_encoding(ctx))
    return _with_notices(ctx, result, outcome, write_notice_list, "notices-juki", _P.JUKI_IMPORT)


def _offer_made(ctx: TaskContext, path: Path | None, label: str, permission: Permission) -> None:
    """A created exchange file and its manifest (the receiving side checks count and hash against it)."""
    if path is None:
        return
    ctx.offer(path, label, permission)
    ctx.offer(manifest_path_for(path), f"{label}のマニフェスト", permission)


def _made(facts: Mapping[str, Any], path: Path | None, written: int, sha256: str, nothing: str) -> dict[str, Any]:
    if path is None:
        return {**facts, "ファイル": nothing}
    return {**facts, "ファイルに書いた件数": f"{written:,} 件", "暗号化": "あり" if path.name.endswith(".enc") else "なし",
            "SHA-256": sha256}


def _offer_exclusions(ctx: TaskContext, job_id: int, excluded: int, name: str) -> dict[str, str]:
    """The exclusion list of a request file's job (persons left out, X07), offered when it has rows."""
    if not excluded:
        return {}
    rows = _offer_list(ctx, job_id, f"exclusions-{name}", "対象外リスト（利用停止中）")
    return {"対象外（利用停止中 X07）": f"{rows:,} 件"}


@kind("linkage-request", "統合利用番号取得要求ファイルの作成", _P.LINKAGE_RUN)
def linkage_request(ctx: TaskContext) -> TaskOutcome:
    from jutaku.linkage.requests import request_linkage

    result = request_linkage(ctx.out / f"linkage-request-{ctx.task.pk}.csv", actor=ctx.actor,
                             plain=bool(ctx.params.get("plain")))
    _offer_made(ctx, result.path, "統合利用番号取得要求ファイル", _P.LINKAGE_RUN)
    facts = {"新規要求": f"{result.created:,} 件", **_offer_exclusions(ctx, result.job_id, result.excluded, "linkage-request")}
    if result.without_number:
        facts["個人番号削除済のため送付しなかった要求"] = f"{result.without_number:,} 件"
    summary = _made(facts, result.path, result.written, result.sha256, "送付する要求はありません（作成していません）")
    return TaskOutcome(summary=summary, message=f"ジョブ #{result.job_id} が完了しました。")


@kind("inquiry-create", "情報照会要求ファイルの作成", _P.INQUIRY_CREATE)
def inquiry_create(ctx: TaskContext) -> TaskOutcome:
    from jutaku.allowlist.names import current
    from jutaku.linkage.inquiries import KIND, create_inquiry_file

    procedure, year = str(ctx.params["procedure"]), int(ctx.params["year"])
    result = create_inquiry_file(procedure, year, ctx.out / f"inquiry-{procedure}-{year}-{ctx.task.pk}.csv",
                                 actor=ctx.actor, plain=bool(ctx.params.get("plain")))
    _offer_made(ctx, result.path, "情報照会要求ファイル", _P.INQUIRY_CREATE)
    excluded = {code: n for code, n in result.counts.items() if code.startswith("X")}
    if excluded:
        _offer_list(ctx, result.job_id, f"exclusions-{KIND}", "照会対象外リスト")
    facts = {"手続・年度": f"{current().procedure(procedure)} {year}年度", "照会要求": f"{result.counts.get('requests', 0):,} 件",
             "照会対象者": f"{result.counts.get('persons', 0):,} 人"}
    if result.counts.get("household"):
        facts["同一世帯の照会対象者（連絡先等情報）"] = f"{result.counts['household']:,} 人"
    summary = {**excluded, **_made(facts, result.path, result.written, result.sha256,
                                   "送付する照会要求はありません（作成していません）")}
    return TaskOutcome(summary=summary, message=f"ジョブ #{result.job_id} が完了しました。")


@kind("juki-request", "住基ネット照会ファイルの作成", _P.JUKI_CREATE)
def juki_request(ctx: TaskContext) -> TaskOutcome:
    from jutaku.juki.requests import request_juki

    year = int(ctx.params["year"])
    result = request_juki(year, ctx.out / f"juki-{year}-{ctx.task.pk}.csv", actor=ctx.actor,
                          plain=bool(ctx.params.get("plain")))
    _offer_made(ctx, result.path, "住基ネット照会ファイル", _P.JUKI_CREATE)
    facts = {"年度": f"{year}年度", "新規照会": f"{result.created:,} 件",
             **_offer_exclusions(ctx, result.job_id, result.excluded, "juki-request")}
    summary = _made(facts, result.path, result.written, result.sha256, "送付する照会はありません（作成していません）")
    return TaskOutcome(summary=summary, message=f"ジョブ #{result.job_id} が完了しました。")


@kind("business-export", "業務システム連携ファイルの作成", _P.EXPORT_BUSINESS)
def business_export(ctx: TaskContext) -> TaskOutcome:
    from jutaku.linkage.export import run_export, write_exclusions

    approval_id = int(ctx.params["approval_id"])
    result = run_export(approval_id, ctx.out / f"business-export-{approval_id}.csv", actor=ctx.actor,
                        plain=bool(ctx.params.get("plain")))
    _offer_made(ctx, result.path, "業務システム連携ファイル", _P.EXPORT_BUSINESS)
    facts = {"承認依頼": f"#{approval_id}", "対象者": f"{result.persons:,} 人"}
    if result.excluded:
        path, info = write_exclusions(result, ctx.out / f"exclusions-business-export-{approval_id}.csv", actor=ctx.actor)
        _drop_manifest(path)
        ctx.offer(path, "対象外リスト（利用停止中）", _P.REJECTIONS_VIEW)
        facts["対象外（利用停止中 X07）"] = f"{info.rows:,} 件"
    summary = _made(facts, result.path, result.rows, result.sha256, "")
    return TaskOutcome(summary=summary, message="業務システム連携ファイルを作成しました（個人番号・団体内統合利用番号は含みません）。")
