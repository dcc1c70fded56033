"""The legal allow-list as reviewed data (checklist: deny by default; seed III 「情報連携が認められた事務」).

Each load of an allow-list file is one :class:`AllowListVersion` (who, when, which file hash); exactly
one version is active at a time (a partial unique constraint). The inquiry rules read only the active
version's :class:`AllowRule` rows: a (住宅区分, 手続, 特定個人情報) triple that is not there is denied.
"""
# mypy: disallow-subclassing-any=False

from __future__ import annotations

from django.db import models


class AllowListVersion(models.Model):
    sha256 = models.CharField(max_length=64)
    file_name = models.CharField(max_length=255)
    rules = models.IntegerField()
    loaded_by = models.CharField(max_length=150)
    terminal = models.CharField(max_length=64)
    loaded_at = models.DateTimeField()
    active = models.BooleanField(default=False)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["active"], condition=models.Q(active=True), name="allowlist_one_active"),
            models.CheckConstraint(condition=models.Q(rules__gte=0), name="allowlist_rules_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"allow-list v{self.pk} {self.sha256[:12]} ({self.rules} rules)"


class AllowRule(models.Model):
    """One permitted (housing category, procedure, information) triple with its legal basis."""

    class Status(models.TextChoices):
        VERIFIED = "verified", "確認済"
        VERIFIED_PROVIDER = "verified-provider", "確認済（提供者）"
        INFERRED = "inferred", "推定"

    version = models.ForeignKey(AllowListVersion, on_delete=models.PROTECT, related_name="rules_set")
    housing_category = models.CharField(max_length=1)  # 住宅区分 code 1–4 (interfaces.md)
    procedure_code = models.CharField(max_length=16)
    procedure_name = models.CharField(max_length=100)
    info_code = models.CharField(max_length=16)
    info_name = models.CharField(max_length=100)
    provider = models.CharField(max_length=100)
    legal_basis = models.CharField(max_length=300)
    requires_consent = models.BooleanField()
    status = models.CharField(max_length=20, choices=Status.choices)

    class Meta:
        ordering = ["version", "housing_category", "procedure_code", "info_code"]
        constraints = [
            models.UniqueConstraint(fields=["version", "housing_category", "procedure_code", "info_code"],
                                    name="allow_rule_once_per_version"),
            models.CheckConstraint(condition=models.Q(housing_category__in=["1", "2", "3", "4"]),
                                   name="allow_rule_housing_category_valid"),
            models.CheckConstraint(condition=models.Q(status__in=["verified", "verified-provider", "inferred"]),
                                   name="allow_rule_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.housing_category} {self.procedure_code} {self.info_code}"
