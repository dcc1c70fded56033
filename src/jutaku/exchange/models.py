"""The media ledger (外部記録媒体 管理台帳): every file Jutaku reads or writes.

The PIA requires that data moved on external media is encrypted and that each use is recorded
(使用年月日, 使用者). One row per file read or written; never a My Number, never a full path.
"""

from __future__ import annotations

from django.db import models


class MediaLedgerEntry(models.Model):
    class Direction(models.TextChoices):
        READ = "read", "取込"
        WRITE = "write", "作成"

    at = models.DateTimeField()
    username = models.CharField(max_length=150)
    terminal = models.CharField(max_length=64)
    direction = models.CharField(max_length=5, choices=Direction.choices)
    interface = models.CharField(max_length=40)
    file_name = models.CharField(max_length=255, help_text="base name only")
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    record_count = models.BigIntegerField(null=True)
    encrypted = models.BooleanField(default=False)
    key_id = models.CharField(max_length=64, blank=True)
    recipient = models.CharField(max_length=100, blank=True)
    media_id = models.CharField(max_length=100, blank=True)
    job_id = models.BigIntegerField(null=True)
    outcome = models.CharField(max_length=20, default="ok", help_text="ok, or the R_ code of a refused file")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(direction__in=["read", "write"]), name="media_ledger_direction_valid"
            ),
            models.CheckConstraint(condition=models.Q(size__gte=0), name="media_ledger_size_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.direction} {self.interface} {self.file_name}"
