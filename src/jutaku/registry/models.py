"""Persons (residents and applicants), their status history and their encrypted My Numbers.

Invariants are written twice (style habit 6): in the domain and as named database constraints.
"""

from __future__ import annotations

from django.db import models

from jutaku.domain.retention import ERASED

PERSON_ID_RE = r"^[0-9]{10}$"


def _erased() -> models.Q:
    """Every field a deletion blanks is blank (:data:`jutaku.domain.retention.ERASED`)."""
    q = models.Q()
    for name, blank in ERASED.items():
        q &= models.Q(**{f"{name}__isnull": True}) if blank is None else models.Q(**{name: blank})
    return q


class Person(models.Model):
    """A resident (入居者) or applicant (入居申込者) from the housing system's target extract.

    After a bulk deletion the entry is a *shell* (``deleted_at`` set): 個人ID, 区分, 住宅区分 and 状態 only,
    every other field blank (:mod:`jutaku.domain.retention`, ADR 0013).
    """

    class Kind(models.TextChoices):
        RESIDENT = "1", "入居者"
        APPLICANT = "2", "入居申込者"

    class Status(models.TextChoices):
        CURRENT = "1", "有効"
        MOVED_OUT = "2", "退去"
        WITHDRAWN = "3", "辞退・不合格"
        DECEASED = "4", "死亡"

    person_id = models.CharField(max_length=10, unique=True)
    kind = models.CharField(max_length=1, choices=Kind.choices)
    household_no = models.CharField(max_length=20, db_index=True)
    relationship = models.CharField(max_length=2)
    housing_category = models.CharField(max_length=1)
    housing_code = models.CharField(max_length=20)
    application_no = models.CharField(max_length=20, blank=True)
    name = models.CharField(max_length=60)
    name_kana = models.CharField(max_length=120)
    kana_key = models.CharField(max_length=120, db_index=True)
    birth_date = models.DateField(null=True)  # NULL only in a deleted shell
    sex = models.CharField(max_length=1)
    postal_code = models.CharField(max_length=7, blank=True)
    address = models.CharField(max_length=200)
    status = models.CharField(max_length=1, choices=Status.choices)
    status_date = models.DateField(null=True)
    updated_at = models.DateTimeField()
    updated_job = models.BigIntegerField(null=True)
    #: 不開示 (DV etc.): once set it holds for every later inquiry until a supervisor clears it; an import
    #: never clears it (interfaces.md, procedures).
    non_disclosure = models.BooleanField(default=False, db_default=False)
    non_disclosure_since = models.DateTimeField(null=True)
    #: When a bulk deletion erased the entry (削除済み); NULL for a live entry (also one filled again).
    deleted_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(person_id__regex=PERSON_ID_RE), name="person_id_ten_digits"),
            models.CheckConstraint(condition=models.Q(kind__in=["1", "2"]), name="person_kind_valid"),
            models.CheckConstraint(condition=models.Q(status__in=["1", "2", "3", "4"]), name="person_status_valid"),
            models.CheckConstraint(condition=models.Q(sex__in=["0", "1", "2", "9"])
                                   | models.Q(sex="", deleted_at__isnull=False), name="person_sex_valid"),
            models.CheckConstraint(
                condition=models.Q(housing_category__in=["1", "2", "3", "4"]), name="person_housing_valid"
            ),
            models.CheckConstraint(condition=models.Q(birth_date__isnull=False) | models.Q(deleted_at__isnull=False),
                                   name="person_birth_date_unless_erased"),
            models.CheckConstraint(condition=models.Q(deleted_at__isnull=True) | _erased(),
                                   name="person_erased_is_blank"),
        ]

    def __str__(self) -> str:
        return self.person_id

    @property
    def is_current(self) -> bool:
        return self.status == self.Status.CURRENT

    @property
    def is_erased(self) -> bool:
        """A shell left by a bulk deletion (削除済み)."""
        return self.deleted_at is not None


class StatusChange(models.Model):
    """Every change of a person's 状態 with its date: moves, withdrawals and deaths are kept, not lost."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="status_changes")
    old_status = models.CharField(max_length=1, blank=True)
    new_status = models.CharField(max_length=1)
    status_date = models.DateField(null=True)
    recorded_at = models.DateTimeField()
    job_id = models.BigIntegerField(null=True)

    class Meta:
        ordering = ["id"]


class MyNumberRecord(models.Model):
    """A person's 個人番号, only ever stored encrypted (AES-256-GCM under the person's data key).

    ``blind_index`` (HMAC-SHA-256 under the index key) allows exact lookup; its unique constraint is the
    database half of the rule "one number belongs to one person"; ``person`` being one-to-one is the rule
    "one person has one number".
    """

    class Source(models.TextChoices):
        KIT = "kit", "届出キット"
        PORTAL = "portal", "マイナポータル"
        CHANGE = "change", "変更届"

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="my_number")
    ciphertext = models.BinaryField()
    blind_index = models.BinaryField()
    source = models.CharField(max_length=10, choices=Source.choices)
    receipt_no = models.CharField(max_length=20)
    id_document = models.CharField(max_length=20, blank=True)
    received_date = models.DateField(null=True)
    job_id = models.BigIntegerField(null=True)
    registered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blind_index"], name="my_number_blind_index_unique"),
            models.CheckConstraint(condition=models.Q(source__in=["kit", "portal", "change"]), name="my_number_source_valid"),
        ]


class ImportRejection(models.Model):
    """A rejected input row of a job (差戻): kept in the chunk's transaction so resumed jobs lose none.

    Never holds a My Number: ``reason`` is the Japanese text of the outcome code and field names only.
    """

    job_id = models.BigIntegerField(db_index=True)
    line_no = models.IntegerField()
    receipt_no = models.CharField(max_length=20, blank=True)
    person_id = models.CharField(max_length=10, blank=True)
    code = models.CharField(max_length=3)
    reason = models.CharField(max_length=400)

    class Meta:
        ordering = ["job_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["job_id", "line_no"], name="import_rejection_once_per_line"),
        ]
        # A bulk deletion removes the rows naming its persons, one statement per chunk (ADR 0013).
        indexes = [models.Index(fields=["person_id"], name="import_rejection_person")]


class Filing(models.Model):
    """One filed procedure for one covered person (都住システム 手続抽出, one row per filing × person).

    Inquiries (issue 5) are permitted only for persons who filed, and business information only with
    ``consent``. A ``non_disclosure_wish`` also sets the person's sticky :attr:`Person.non_disclosure`.
    """

    receipt_no = models.CharField(max_length=20)
    procedure_code = models.CharField(max_length=16, db_index=True)
    fiscal_year = models.IntegerField()
    received_date = models.DateField()
    applicant = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="filings_made")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="filings")
    consent = models.BooleanField()
    non_disclosure_wish = models.BooleanField()
    job_id = models.BigIntegerField(null=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["receipt_no", "person"], name="filing_once_per_receipt_and_person"),
            models.CheckConstraint(condition=models.Q(fiscal_year__gte=2000) & models.Q(fiscal_year__lte=2100),
                                   name="filing_fiscal_year_range"),
        ]
