"""Juki-net identity queries (住基ネット照会, F3) and their answers (F5).

A query is by My Number (the file is encrypted by default); ``照会番号`` comes from the never-reused counter
of :mod:`jutaku.linkage.ids`. One open query per person (partial unique constraint). An answer's identity
data is stored only encrypted under the person's data key; its discrepancy text is a fixed Japanese
sentence (the notice list), never a quote; the returned 個人番号 is compared through the blind index and
never stored.
"""
# mypy: disallow-subclassing-any=False

from __future__ import annotations

from django.db import models

from jutaku.linkage.models import RequestLifecycle
from jutaku.registry.models import Person


class JukiQuery(RequestLifecycle):
    class State(models.TextChoices):
        OPEN = "open", "未回答"
        ANSWERED = "answered", "回答済"
        ERROR = "error", "エラー"
        CANCELLED = "cancelled", "取消"

    query_no = models.CharField(max_length=30, unique=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="juki_queries")
    fiscal_year = models.IntegerField()
    state = models.CharField(max_length=10, choices=State.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person"], condition=models.Q(state="open"),
                                    name="juki_one_open_query_per_person"),
            models.CheckConstraint(condition=models.Q(state__in=["open", "answered", "error", "cancelled"]),
                                   name="juki_query_state_valid"),
        ]
        indexes = [models.Index(fields=["dispatch", "id"], name="juki_query_dispatch")]

    def __str__(self) -> str:
        return f"{self.query_no} {self.state}"


class JukiResult(models.Model):
    query = models.OneToOneField(JukiQuery, on_delete=models.PROTECT, related_name="result")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="juki_results")
    result_code = models.CharField(max_length=2)
    outcome = models.CharField(max_length=3)
    change_reason = models.CharField(max_length=20, blank=True)  # 異動事由 (a code list, not personal text)
    change_date = models.DateField(null=True)
    existing = models.CharField(max_length=1, blank=True)  # 現存区分
    data = models.BinaryField(null=True)  # the answer's 4情報 and 住民票コード, encrypted
    discrepancy = models.CharField(max_length=400, blank=True)
    received_at = models.DateTimeField()
    job_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(result_code__in=["00", "01", "09"]), name="juki_result_code_valid"),
        ]
        indexes = [models.Index(fields=["job_id"], name="juki_result_job")]

    def __str__(self) -> str:
        return f"juki result of {self.query_id}: {self.outcome}"
