"""Integrated numbers (団体内統合利用番号) and the requests that obtain them (seed ④–⑥).

Request ids (要求番号) come from :class:`RequestCounter`, a counter per kind that only moves forward,
so an id is never reused, even after requests are deleted. A person has at most one open linkage request
(partial unique constraint) and at most one integrated number; an integrated number belongs to one
person (unique blind index). Integrated numbers are stored only encrypted, like My Numbers.
"""
# mypy: disallow-subclassing-any=False

from __future__ import annotations

from django.db import models

from jutaku.registry.models import Person


class RequestCounter(models.Model):
    """The next request number of one kind (``linkage``, ``inquiry``, ``juki``)."""

    name = models.CharField(max_length=20, primary_key=True)
    next_value = models.BigIntegerField()

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(next_value__gte=1), name="request_counter_positive")]

    def __str__(self) -> str:
        return f"{self.name}: {self.next_value}"


class Dispatch(models.Model):
    """One batch of requests to another system (送付): the requests one create job made, and when and in
    which file they were sent.

    Sending is a fact about the file, so it is recorded here, once: marking a file of five million
    requests sent is one row, not five million row rewrites (ADR 0011). A request is *sent* when its
    dispatch is; it stays ``open`` until its answer comes.
    """

    class Kind(models.TextChoices):
        LINKAGE = "linkage", "統合利用番号取得要求"
        INQUIRY = "inquiry", "情報照会要求"
        JUKI = "juki", "住基ネット照会"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    procedure_code = models.CharField(max_length=16, blank=True)
    fiscal_year = models.IntegerField(null=True)
    created_at = models.DateTimeField()
    created_job = models.BigIntegerField(null=True)
    sent_at = models.DateTimeField(null=True)
    sent_file_sha256 = models.CharField(max_length=64, blank=True)
    sent_rows = models.IntegerField(null=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=["linkage", "inquiry", "juki"]), name="dispatch_kind_valid"),
            models.CheckConstraint(condition=models.Q(sent_at__isnull=True) | ~models.Q(sent_file_sha256=""),
                                   name="dispatch_sent_has_file"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} dispatch {self.pk} ({'sent' if self.sent_at else 'not sent'})"


class RequestLifecycle(models.Model):
    """When and by which job a request to another system was created, in which dispatch (file) it went,
    and when it was answered (when it was sent is its dispatch's ``sent_at``)."""

    OPEN_STATES = ("open",)

    dispatch = models.ForeignKey(Dispatch, on_delete=models.PROTECT, related_name="+", db_index=False)
    created_at = models.DateTimeField()
    created_job = models.BigIntegerField(null=True)
    answered_at = models.DateTimeField(null=True)
    answered_job = models.BigIntegerField(null=True)

    class Meta:
        abstract = True

    def progress_label(self) -> str:
        """作成済 / 送付済 for an open request, else the state's own label."""
        if self.state == "open":  # type: ignore[attr-defined]
            return "送付済" if self.dispatch.sent_at else "作成済"
        return str(self.get_state_display())  # type: ignore[attr-defined]


class LinkageRequest(RequestLifecycle):
    class State(models.TextChoices):
        OPEN = "open", "未回答"
        ANSWERED = "answered", "取得済"
        NOT_FOUND = "not_found", "該当なし"
        ERROR = "error", "エラー"
        CANCELLED = "cancelled", "取消"

    request_no = models.CharField(max_length=30, unique=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="linkage_requests")
    state = models.CharField(max_length=10, choices=State.choices)
    error_text = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person"], condition=models.Q(state="open"),
                                    name="linkage_one_open_request_per_person"),
            models.CheckConstraint(
                condition=models.Q(state__in=["open", "answered", "not_found", "error", "cancelled"]),
                name="linkage_request_state_valid"),
        ]
        indexes = [models.Index(fields=["dispatch", "id"], name="linkage_request_dispatch")]

    def __str__(self) -> str:
        return f"{self.request_no} {self.state}"


class IntegratedNumber(models.Model):
    """A person's 団体内統合利用番号 (15 digits), encrypted under the person's data key."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="integrated_number")
    ciphertext = models.BinaryField()
    blind_index = models.BinaryField()
    request = models.ForeignKey(LinkageRequest, on_delete=models.PROTECT, null=True, related_name="+")
    linked_at = models.DateTimeField()
    job_id = models.BigIntegerField(null=True)
    #: Set when the person's My Number was changed: the number is asked for again with the new My Number
    #: and, until the answer replaces this row, no inquiry is made about the person (``X08``).
    reacquire_since = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["blind_index"], name="integrated_number_blind_index_unique")]

    def __str__(self) -> str:
        return f"integrated number of person {self.person_id}"


class InquiryRequest(RequestLifecycle):
    """One request of an inquiry file: (filing, covered person, information), with its 不開示コード."""

    class State(models.TextChoices):
        OPEN = "open", "未回答"
        ANSWERED = "answered", "回答済"
        ERROR = "error", "エラー"
        CANCELLED = "cancelled", "取消"

    #: States that block a new request for the same filing and information (open, or answered).
    BLOCKING_STATES = ("open", "answered")

    request_no = models.CharField(max_length=30, unique=True)
    filing = models.ForeignKey("registry.Filing", on_delete=models.PROTECT, related_name="inquiries")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="inquiries")
    procedure_code = models.CharField(max_length=16)
    info_code = models.CharField(max_length=16)
    fiscal_year = models.IntegerField()
    non_disclosure = models.CharField(max_length=1)  # 不開示コード as sent: 1 通常, 2 不開示
    state = models.CharField(max_length=10, choices=State.choices)

    class Meta:
        constraints = [
            # Per person: a household member's request (同一住所の者) belongs to the filer's filing.
            models.UniqueConstraint(fields=["filing", "person", "info_code"],
                                    condition=models.Q(state__in=["open", "answered"]),
                                    name="inquiry_once_per_filing_person_information"),
            models.CheckConstraint(condition=models.Q(state__in=["open", "answered", "error", "cancelled"]),
                                   name="inquiry_request_state_valid"),
            models.CheckConstraint(condition=models.Q(non_disclosure__in=["1", "2"]),
                                   name="inquiry_non_disclosure_code_valid"),
        ]
        # The write step pages through one dispatch's requests in id order.
        indexes = [models.Index(fields=["dispatch", "id"], name="inquiry_request_dispatch")]

    def __str__(self) -> str:
        return f"{self.request_no} {self.info_code} {self.state}"


class InquiryResult(models.Model):
    """The answer to one inquiry request. ``data`` (tax, welfare, disability…) is stored only encrypted
    under the person's data key; ``discrepancy`` is the Japanese description of any disagreement with
    the register (the notice list, 届出勧奨リスト), never a number."""

    request = models.OneToOneField(InquiryRequest, on_delete=models.PROTECT, related_name="result")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="inquiry_results")
    info_code = models.CharField(max_length=16)
    result_code = models.CharField(max_length=2)
    unset_reason = models.CharField(max_length=200, blank=True)
    data = models.BinaryField(null=True)
    discrepancy = models.CharField(max_length=400, blank=True)
    received_at = models.DateTimeField()
    job_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(result_code__in=["00", "01", "02", "09"]),
                                   name="inquiry_result_code_valid"),
        ]
        indexes = [models.Index(fields=["job_id"], name="inquiry_result_job")]

    def __str__(self) -> str:
        return f"result of {self.request_id}: {self.result_code}"
