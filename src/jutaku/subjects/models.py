"""Requests of the persons themselves (開示・訂正・利用停止請求) and their handling (PIA: 対応・記録)."""
# mypy: disallow-subclassing-any=False

from __future__ import annotations

from django.db import models

from jutaku.registry.models import Person


class SubjectRequest(models.Model):
    class Kind(models.TextChoices):
        DISCLOSURE = "disclosure", "開示請求"
        CORRECTION = "correction", "訂正請求"
        SUSPENSION = "suspension", "利用停止請求"

    class State(models.TextChoices):
        RECEIVED = "received", "受付"
        HANDLED = "handled", "対応済"
        REFUSED = "refused", "不承認"
        LIFTED = "lifted", "解除済"  # a handled use suspension, lifted under dual control

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="subject_requests")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    received_on = models.DateField()
    received_by = models.CharField(max_length=150)
    state = models.CharField(max_length=10, choices=State.choices, default="received")
    handled_by = models.CharField(max_length=150, blank=True)
    handled_at = models.DateTimeField(null=True)
    note = models.CharField(max_length=400, blank=True)  # never a number (checked by the service)
    #: Lifting a handled use suspension (利用停止の解除): who asked, who approved it, when (the approval).
    lifted_at = models.DateTimeField(null=True)
    lift_approval = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=["disclosure", "correction", "suspension"]),
                                   name="subject_request_kind_valid"),
            models.CheckConstraint(condition=models.Q(state__in=["received", "handled", "refused", "lifted"]),
                                   name="subject_request_state_valid"),
            models.CheckConstraint(condition=~models.Q(state="lifted") | models.Q(kind="suspension"),
                                   name="subject_request_only_suspensions_lifted"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.state}"
