"""Models of jutaku.crypto: the wrapped per-person data keys (never a key in clear, never a KEK)."""
# mypy: disallow-subclassing-any=False

from __future__ import annotations

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone


class PersonKey(models.Model):
    """The data key (DEK) of one person, wrapped under KEK ``kek_version``.

    Deleting the row destroys every ciphertext of the person (crypto-shredding, CRY-04).
    """

    person_ref = models.CharField(max_length=10, unique=True)  # the 10-digit 個人ID
    kek_version = models.PositiveIntegerField(db_index=True)
    dek_version = models.PositiveSmallIntegerField(default=1)
    wrapped_dek = models.BinaryField()  # 12-byte nonce | AES-GCM(KEK, DEK) | tag = 60 bytes
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "crypto_person_key"
        constraints = (
            models.CheckConstraint(condition=Exact(Length("person_ref"), 10), name="crypto_person_ref_10_chars"),
            models.CheckConstraint(condition=models.Q(kek_version__gte=1), name="crypto_kek_version_positive"),
            models.CheckConstraint(condition=models.Q(dek_version__gte=1), name="crypto_dek_version_positive"),
            models.CheckConstraint(condition=Exact(Length("wrapped_dek"), 60), name="crypto_wrapped_dek_60_bytes"),
        )

    def __repr__(self) -> str:
        return f"<PersonKey {self.person_ref} kek={self.kek_version} dek={self.dek_version}>"

    __str__ = __repr__
