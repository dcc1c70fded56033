"""Crypto-shredding: destroy persons' data keys so every ciphertext of theirs is unreadable (CRY-04).

Deleting the ``PersonKey`` row is the destruction (SP 800-88 cryptographic erase): the DEK existed
only wrapped in that row and unwrapped in process memory. Backups still hold the wrapped DEK until
they expire; the registry's tombstone keeps a restored person deleted (docs/runbooks/keys.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from jutaku.accounts.actor import Actor
from jutaku.audit.events import AuditEvent
from jutaku.crypto._audit import record_event
from jutaku.crypto.envelope import check_person_ref, forget_everywhere
from jutaku.crypto.store import DbDekStore


@dataclass(frozen=True)
class ShredResult:
    requested: int
    destroyed: int


def shred(person_refs: Iterable[str], *, actor: Actor, using: str = "default") -> ShredResult:
    """Destroy the DEK of every person in ``person_refs`` (個人ID) and audit ``keys:shred``.

    Runs in one transaction with its audit record (object ids are person refs, never numbers).
    Persons without a DEK count as requested but not destroyed.
    """
    refs = list(dict.fromkeys(person_refs))
    for ref in refs:
        check_person_ref(ref)
    with transaction.atomic(using=using):
        destroyed = DbDekStore(using).delete(refs)
        record_event(AuditEvent.KEYS_SHRED, actor=actor, objects=refs,
                     detail={"requested": len(refs), "destroyed": destroyed, "method": "crypto-erase:dek-deleted"})
    forget_everywhere(refs)
    return ShredResult(requested=len(refs), destroyed=destroyed)
