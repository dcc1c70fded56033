"""A task's page (progress bar, outcome table, files to download), its progress poll and downloads.

A task and its files belong to the user who started it: anyone else gets the same 404 as for a task
that does not exist (AUTHZ-02, IDOR).
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone

from jutaku.accounts.permissions import Permission
from jutaku.domain.jobs import Status, kind_label
from jutaku.jobs import queue
from jutaku.jobs.labels import is_code
from jutaku.jobs.models import Download, Job, Task, TaskState
from jutaku.jobs.status import shown, shown_one
from jutaku.web.access import not_found, requires
from jutaku.web.labels import OUTCOME_LABELS, task_label

RECENT = 30


def _own_task(request: HttpRequest, task_id: int) -> Task | None:
    return Task.objects.filter(pk=task_id, username=request.actor.username).first()  # type: ignore[attr-defined]


#: The badge's colour class for each state the task page shows.
BADGES = {"queued": "warn", "running": "warn", "interrupted": "bad", "done": "ok", "failed": "bad"}


def progress_of(task: Task) -> dict[str, Any]:
    """The one state of a task's page — the badge and the progress box show the same (issue 14 item 12):
    the task's state, except that a running task whose job's process died is 中断, with how to resume it."""
    job = Job.objects.filter(pk__in=task.job_ids).order_by("-id").first() if task.job_ids else None
    done = int(job.cursor) if job is not None else 0
    total = int(job.total) if job is not None and job.total else None
    finished = task.state in (TaskState.DONE, TaskState.FAILED)
    state, label, hint = str(task.state), TaskState(task.state).label, ""
    if task.state == TaskState.RUNNING and job is not None:
        shown = shown_one(job)
        if shown.status is Status.INTERRUPTED:
            state, label, hint = "interrupted", shown.label, shown.hint
    if task.state == TaskState.QUEUED:
        text = "実行を待っています"
    elif total:
        text = f"{done:,} / {total:,} 件（{done * 100 // max(total, 1)}%）"
    else:
        text = f"{done:,} 件処理済み" if job is not None else "準備中"
    return {"state": state, "state_label": label, "badge": BADGES[state], "hint": hint, "done": done,
            "total": total, "text": text, "finished": finished, "job": job.kind if job is not None else ""}


def state_label(task: Task) -> str:
    """The task's state as its page shows it (a running task whose job's process died: 中断)."""
    return str(progress_of(task)["state_label"]) if task.state == TaskState.RUNNING else TaskState(task.state).label


@requires(Permission.SESSION_SELF)
def task_list(request: HttpRequest) -> HttpResponse:
    tasks = Task.objects.filter(username=request.actor.username).order_by("-id")[:RECENT]  # type: ignore[attr-defined]
    return render(request, "web/tasks/list.html", {"title": "自分の処理", "tasks": [
        {"task": t, "label": task_label(t.kind), "state": state_label(t)} for t in tasks]})


@requires(Permission.SESSION_SELF)
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _own_task(request, task_id)
    if task is None:
        return not_found(request)
    summary = (task.result or {}).get("summary", {})
    labels = {**OUTCOME_LABELS, **(task.result or {}).get("labels", {})}
    # An outcome code with its meaning; a count that is not a code (already a name) in the 内容 column.
    rows = [(code, labels.get(code, ""), count) if is_code(code) else ("", labels.get(code, code), count)
            for code, count in sorted(summary.items(), key=lambda item: (not is_code(item[0]), item[0]))
            if isinstance(count, int)]
    facts = [(k, v) for k, v in summary.items() if not isinstance(v, int)]
    downloads = Download.objects.filter(pk__in=(task.result or {}).get("downloads", []), owner=task.username)
    now = timezone.now()
    files = [{"d": d, "available": queue.available(d, request.actor, now)} for d in downloads]  # type: ignore[attr-defined]
    jobs = list(Job.objects.filter(pk__in=task.job_ids).order_by("id")) if task.job_ids else []
    states = shown(jobs)
    return render(request, "web/tasks/detail.html", {
        "title": f"処理 #{task.pk}", "task": task, "label": task_label(task.kind), "rows": rows, "facts": facts,
        "files": files, "jobs": [{"job": j, "shown": states[j.pk], "kind": kind_label(j.kind)} for j in jobs], "progress": progress_of(task)})


@requires(Permission.SESSION_SELF, passive=True)
def task_progress(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _own_task(request, task_id)
    if task is None:
        return JsonResponse({"error": "not found"}, status=404)
    return JsonResponse(progress_of(task))


@requires(Permission.SESSION_SELF)
def download(request: HttpRequest, token: str) -> HttpResponse:
    item = Download.objects.filter(token=token[:64]).first()
    actor = request.actor  # type: ignore[attr-defined]
    if item is None or not queue.available(item, actor):
        return not_found(request)
    handle = queue.take(item, actor=actor)
    return FileResponse(handle, as_attachment=True, filename=item.name, content_type="application/octet-stream")


urlpatterns: list[URLPattern] = [
    path("tasks/", task_list, name="tasks"),
    path("tasks/<int:task_id>/", task_detail, name="task"),
    path("tasks/<int:task_id>/progress/", task_progress, name="task-progress"),
    path("downloads/<str:token>/", download, name="download"),
]
