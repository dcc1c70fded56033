"""Re-acquiring an integrated number after a My Number change (issue 12 item 8).

The linkage server gave the integrated number for the *old* My Number. When a supervisor changes the
number (:func:`jutaku.registry.numbers.change_number`), in the same transaction, :func:`mark` sets
``reacquire_since`` on the person's integrated number and cancels the person's open linkage request (it
was, or would be, answered for the old number). From then on:

* the next ``jutaku linkage request`` asks again, with the new My Number (the candidates' anti-join
  counts only integrated numbers not so marked);
* no inquiry is made about the person (``X08``; an inquiry request made before, not yet sent, is withheld);
* the answer replaces the marked row (:mod:`jutaku.linkage.results`), which ends the mark.

The marked row is kept until then (it is still the person's, encrypted under the person's data key): an
answer to an inquiry sent before the change still matches it.
"""

from __future__ import annotations

from datetime import datetime

from jutaku.linkage.models import IntegratedNumber, LinkageRequest


def mark(person_pk: int, *, now: datetime) -> dict[str, int]:
    """Inside the caller's transaction: mark the integrated number (if any) and cancel the open linkage
    request (if any). Returns what was done, for the caller's audit record."""
    marked = IntegratedNumber.objects.filter(person_id=person_pk, reacquire_since__isnull=True).update(
        reacquire_since=now)
    cancelled = LinkageRequest.objects.filter(person_id=person_pk, state=LinkageRequest.State.OPEN).update(
        state=LinkageRequest.State.CANCELLED, error_text="個人番号の変更により取消（新しい番号で再要求します）")
    return {"integrated_number_marked": marked, "linkage_requests_cancelled": cancelled}


def reacquiring_persons() -> frozenset[int]:
    """Primary keys of the persons whose integrated number awaits re-acquisition (few)."""
    return frozenset(IntegratedNumber.objects.filter(reacquire_since__isnull=False).values_list("person_id", flat=True))
