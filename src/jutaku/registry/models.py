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

    class StatusSource(models.TextChoices):
        """Who set the current 状態 (:mod:`jutaku.domain.status`)."""

        EXTRACT = "extract", "都住システム"
        JUKI = "juki", "住基ネット"
        CORRECTION = "correction", "責任者の訂正"

    person_id = models.CharField(max_length=10, unique=True)
    kind = models.CharField(max_length=1, choices=Kind.choices)
    household_no = models.CharField(max_length=20, db_index=True)
    relationship = models.CharField(max_length=2)
    housing_category = models.CharField(max_length=1)
    housing_code = models.CharField(max_length=20, blank=True)  # empty for applicants (区分 2)
    application_no = models.CharField(max_length=20, blank=True)
    name = models.CharField(max_length=60)
    name_kana = models.CharField(max_length=120)
    kana_key = models.CharField(max_length=120, db_index=True)
    #: The name's kanji key (:func:`jutaku.domain.japanese.name_search_key`: NFKC, spaces and variation
    #: selectors dropped, 異体字・旧字体 folded), searched by prefix like ``kana_key`` (ADR 0023).
    kanji_key = models.CharField(max_length=120, db_index=True, default="", db_default="")
    birth_date = models.DateField(null=True)  # NULL only in a deleted shell
    sex = models.CharField(max_length=1)
    postal_code = models.CharField(max_length=7, blank=True)
    address = models.CharField(max_length=200)
    status = models.CharField(max_length=1, choices=Status.choices)
    status_date = models.DateField(null=True)
    #: A death recorded from Juki-net (``juki``) stays until a supervisor corrects it: a later extract
    #: never undoes it (:mod:`jutaku.domain.status`).
    status_source = models.CharField(max_length=10, choices=StatusSource.choices, default=StatusSource.EXTRACT,
                                     db_default=StatusSource.EXTRACT)
    updated_at = models.DateTimeField()
    updated_job = models.BigIntegerField(null=True)
    #: 不開示 (DV etc.): once set it holds for every later inquiry until a supervisor clears it (dual
    #: control); an import never clears it (interfaces.md, procedures and portal; :mod:`jutaku.domain.wishes`).
    non_disclosure = models.BooleanField(default=False, db_default=False)
    non_disclosure_since = models.DateTimeField(null=True)
    #: When a bulk deletion erased the entry (削除済み); NULL for a live entry (also one filled again).
    deleted_at = models.DateTimeField(null=True)
    #: When the wish was last stated anew, by any path: a clear requested before it cannot be approved.
    non_disclosure_wish_at = models.DateTimeField(null=True)

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
            # A resident has a dwelling; an applicant may have none yet (interfaces.md, targets); a shell
            # left by a deletion keeps none.
            models.CheckConstraint(condition=models.Q(kind="2") | ~models.Q(housing_code="")
                                   | models.Q(deleted_at__isnull=False),
                                   name="person_resident_has_dwelling"),
            models.CheckConstraint(condition=models.Q(status_source__in=["extract", "juki", "correction"]),
                                   name="person_status_source_valid"),
            # Juki-net sets a status only by reporting a death.
            models.CheckConstraint(condition=~models.Q(status_source="juki") | models.Q(status="4"),
                                   name="person_juki_status_is_death"),
        ]
        # 対象者検索 by 生年月日 alone or with a name (ADR 0023); 個人ID, 世帯番号 and the keys have theirs.
        indexes = [models.Index(fields=["birth_date"], name="person_birth_date")]

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
    """Every change of a person's 状態 with its date and source: moves, withdrawals and deaths are kept."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="status_changes")
    old_status = models.CharField(max_length=1, blank=True)
    new_status = models.CharField(max_length=1)
    status_date = models.DateField(null=True)
    recorded_at = models.DateTimeField()
    job_id = models.BigIntegerField(null=True)
    source = models.CharField(max_length=10, choices=Person.StatusSource.choices, default=Person.StatusSource.EXTRACT,
                              db_default=Person.StatusSource.EXTRACT)

    class Meta:
        ordering = ["id"]


class StatusNotice(models.Model):
    """A targets row that disagreed with a death recorded from Juki-net (outcome ``S01``): the status was
    kept, and the person goes on the import's notice list (届出勧奨リスト). Never holds a number."""

    job_id = models.BigIntegerField(db_index=True)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="status_notices")
    code = models.CharField(max_length=3)
    extract_status = models.CharField(max_length=1)
    description = models.CharField(max_length=400)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["job_id", "id"]


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


class PortalApplication(models.Model):
    """A Mynaportal application (マイナポータル申請, LoGo form) that identified its person: the wishes it
    states, with their source (受付番号, 受付日時), on the same terms as a filing of the procedures extract.

    ``consent`` is the stated 照会同意 (``None``: not stated); it counts for inquiries only from an accepted
    application (``outcome`` ``OK``/``I01``), the latest by ``received_at`` (:mod:`jutaku.domain.wishes`).
    """

    receipt_no = models.CharField(max_length=20, unique=True)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="portal_applications")
    received_at = models.DateTimeField()
    consent = models.BooleanField(null=True)
    non_disclosure_wish = models.BooleanField()
    outcome = models.CharField(max_length=3)
    job_id = models.BigIntegerField(null=True)
    recorded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["person", "received_at"], name="portal_application_latest")]
