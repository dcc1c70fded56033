"""Bulk deletion (個人番号一括削除, F7): the approved target list and the deletion record.

:class:`DeletionTarget` rows are the list a requester submitted (one approval request each);
:class:`DeletionRecord` is the 削除記録 — who asked, who approved, when, what was deleted, how, and by which
day the last backup still holding the person expires — and the tombstone that keeps a deleted person
deleted: it is never deleted itself and holds no number and no personal content (ADR 0013).
"""
# mypy: disallow-subclassing-any=False

from __future__ import annotations

from django.db import models

from jutaku.registry.models import Person


class DeletionTarget(models.Model):
    approval_id = models.BigIntegerField(db_index=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=1)
    line_no = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["approval_id", "person"], name="deletion_target_once")]

    def __str__(self) -> str:
        return f"target {self.person_id} of approval {self.approval_id}"


class DeletionRecord(models.Model):
    deletion_no = models.CharField(max_length=30)
    approval_id = models.BigIntegerField()
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="deletions")
    person_ref = models.CharField(max_length=10)
    reason = models.CharField(max_length=1)
    executed_at = models.DateTimeField()
    requested_by = models.CharField(max_length=150)
    approved_by = models.CharField(max_length=150)
    items = models.CharField(max_length=200)
    method = models.CharField(max_length=100)
    job_id = models.BigIntegerField(null=True)
    #: The day by which the last backup taken before the deletion expires and is pruned (JST); NULL when
    #: no backup held the person. Not a column of the deletion report (interfaces.md): screen and CLI.
    backup_expires_on = models.DateField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["approval_id", "person"], name="deletion_record_once")]
        indexes = [models.Index(fields=["person_ref"], name="deletion_record_person")]

    def __str__(self) -> str:
        return f"{self.deletion_no} {self.person_ref}"
