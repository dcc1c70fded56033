"""The media ledger (外部記録媒体 管理台帳): every file Jutaku reads or writes; and the outputs it keeps.

The PIA requires that data moved on external media is encrypted and that each use is recorded
(使用年月日, 使用者), with the medium, who carried it and the erasure from it after the transfer. One ledger
row per file read or written; never a My Number, never a full path. :class:`OutputFile` holds the path of
each file written, only until it is purged (its retention, ``domain.media.expires_at``).
"""

from __future__ import annotations

from django.db import models

from jutaku.domain.jst import format_time


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
    # The medium (media_id above: the operator's id of the USB stick, disc…) and who carried it, then the
    # confirmation that the file was erased from it after the transfer (論理削除; jutaku media erased).
    carrier = models.CharField(max_length=60, blank=True, help_text="who carried the medium (name, organisation)")
    handed_over_at = models.DateTimeField(null=True, blank=True)
    handed_over_by = models.CharField(max_length=150, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    erased_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(direction__in=["read", "write"]), name="media_ledger_direction_valid"
            ),
            models.CheckConstraint(condition=models.Q(size__gte=0), name="media_ledger_size_nonnegative"),
            # domain.media.handover_error / erasure_error, written twice: a hand-over names its medium and
            # carrier, an erasure names its medium and who confirmed it.
            models.CheckConstraint(
                condition=models.Q(handed_over_at__isnull=True)
                | (~models.Q(media_id="") & ~models.Q(carrier="") & ~models.Q(handed_over_by="")),
                name="media_ledger_handover_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(erased_at__isnull=True) | (~models.Q(media_id="") & ~models.Q(erased_by="")),
                name="media_ledger_erasure_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{format_time(self.at)} {self.direction} {self.interface} {self.file_name}"


class OutputFile(models.Model):
    """A file the system wrote (export, list, report, chart, manifest) and when it goes (PIA: 作業後は、端末上の
    データは直ちに削除). :mod:`jutaku.exchange.outputs` purges it once ``expires_at`` has passed — at the start of
    every command and every worker-loop turn — if the file at ``path`` is still the one written (``identity``).
    """

    class Outcome(models.TextChoices):
        EXPIRED = "expired", "期限切れで削除"
        FORCED = "forced", "期限前に削除"
        DOWNLOADED = "downloaded", "ダウンロード後に削除"
        REPLACED = "replaced", "同名の新しいファイルで置換"
        MISSING = "missing", "既に無い（移動・削除済）"
        CHANGED = "changed", "別のファイルに置き換わっていたため削除せず"

    path = models.CharField(max_length=1000, help_text="absolute path as written")
    name = models.CharField(max_length=255, help_text="base name, for display")
    interface = models.CharField(max_length=40)
    media_entry = models.ForeignKey(MediaLedgerEntry, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="outputs")
    username = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    identity = models.CharField(max_length=100, help_text="device:inode:size:mtime_ns of the file written")
    purged_at = models.DateTimeField(null=True, blank=True)
    purge_outcome = models.CharField(max_length=12, blank=True, choices=Outcome.choices)
    purged_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The purge's one query when nothing is due: the live outputs by expiry (also the few rows a
            # look-up by path among live outputs reads).
            models.Index(fields=["expires_at"], condition=models.Q(purged_at__isnull=True),
                         name="exchange_output_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(expires_at__gte=models.F("created_at")),
                                   name="exchange_output_expiry_after_creation"),
            models.CheckConstraint(
                condition=(models.Q(purged_at__isnull=True, purge_outcome="")
                           | (models.Q(purged_at__isnull=False)
                              & models.Q(purge_outcome__in=["expired", "forced", "downloaded", "replaced", "missing",
                                                            "changed"]))),
                name="exchange_output_purge_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"output #{self.pk} {self.name}"
