"""The job ledger: one row per run of a batch job (REL-01, REL-03).

A row records what was read (input hash and a display name), who ran it, how far it got (``cursor``:
the number of input items whose effects are committed) and what happened (``counts`` by outcome code).
The cursor moves in the same transaction as the chunk's data and audit rows, so a restart knows
exactly where to continue; ``chunks`` counts the committed chunks with it. No personal data is ever stored here: ``input_name`` is a file name for
display and ``error_message`` is written by the runner, never copied from an exception.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class JobState(models.TextChoices):  # type: ignore[misc]  # Django is untyped here
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    COMPLETED = "completed", "completed"
    FAILED = "failed", "failed"
    REFUSED = "refused", "refused"


#: States from which a non-dry-run job is continued by the next run over the same input.
RESUMABLE_STATES = (JobState.RUNNING, JobState.FAILED)


class Job(models.Model):  # type: ignore[misc]
    kind = models.CharField(max_length=64)
    input_sha256 = models.CharField(max_length=64)
    input_name = models.CharField(max_length=255, blank=True, default="")
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED)
    dry_run = models.BooleanField(default=False)
    cursor = models.BigIntegerField(default=0)
    #: Chunks committed (moves with the cursor): what an interrupted run reports it had committed.
    chunks = models.BigIntegerField(default=0)
    total = models.BigIntegerField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    actor_username = models.CharField(max_length=150)
    actor_terminal = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=32, blank=True, default="")
    error_message = models.CharField(max_length=500, blank=True, default="")
    options = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-id",)
        indexes = (models.Index(fields=["kind", "input_sha256"], name="jobs_job_kind_input_idx"),)
        constraints = (
            models.CheckConstraint(
                condition=Q(state__in=JobState.values), name="jobs_job_state_valid"
            ),
            models.CheckConstraint(condition=Q(cursor__gte=0), name="jobs_job_cursor_not_negative"),
            # A file is applied once: a second completed real run of the same input cannot exist.
            models.UniqueConstraint(
                fields=["kind", "input_sha256"],
                condition=Q(state=JobState.COMPLETED, dry_run=False),
                name="jobs_job_one_completed_per_input",
            ),
            # Single runner per kind (REL-03), also enforced by the OS / advisory lock.
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(state=JobState.RUNNING),
                name="jobs_job_one_running_per_kind",
            ),
        )

    def __str__(self) -> str:
        return f"job #{self.pk} {self.kind} {self.state}"


class TaskState(models.TextChoices):  # type: ignore[misc]
    QUEUED = "queued", "待機中"
    RUNNING = "running", "実行中"
    DONE = "done", "完了"
    FAILED = "failed", "失敗"


class Task(models.Model):  # type: ignore[misc]
    """A job started from the browser and run by ``jutaku worker`` (issue 7, ADR 0012).

    ``params`` and ``result`` hold options, counts and Japanese messages only, never personal data; an
    uploaded file is kept under a generated name (``upload``) until the task has read it, then deleted.
    The worker runs the task as its user with the permissions that user has *when it runs*.
    """

    kind = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)
    upload = models.CharField(max_length=80, blank=True, default="")
    upload_name = models.CharField(max_length=255, blank=True, default="")
    state = models.CharField(max_length=10, choices=TaskState.choices, default=TaskState.QUEUED)
    username = models.CharField(max_length=150)
    terminal = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    job_ids = models.JSONField(default=list, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ("-id",)
        indexes = (models.Index(fields=["state", "id"], name="jobs_task_state_idx"),
                   models.Index(fields=["username", "id"], name="jobs_task_user_idx"))
        constraints = (models.CheckConstraint(condition=Q(state__in=TaskState.values), name="jobs_task_state_valid"),)

    def __str__(self) -> str:
        return f"task #{self.pk} {self.kind} {self.state}"


class Download(models.Model):  # type: ignore[misc]
    """A file made for one user to download (rejection list, request file, report). It expires and is
    deleted after its first download or after ``JUTAKU_DOWNLOAD_HOURS`` (FILE-09)."""

    token = models.CharField(max_length=64, unique=True)
    task = models.ForeignKey(Task, on_delete=models.SET_NULL, null=True, blank=True, related_name="downloads")
    owner = models.CharField(max_length=150)
    permission = models.CharField(max_length=40)
    label = models.CharField(max_length=100)
    name = models.CharField(max_length=255)
    path = models.CharField(max_length=500)
    size = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    downloaded_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        # The housekeeping's one query when nothing is due (jutaku.jobs.queue.expire).
        indexes = (models.Index(fields=["expires_at"], condition=Q(deleted_at__isnull=True),
                                name="jobs_download_due_idx"),)
        constraints = (models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")),
                                              name="jobs_download_expiry"),)

    def __str__(self) -> str:
        return f"download #{self.pk} {self.label}"
