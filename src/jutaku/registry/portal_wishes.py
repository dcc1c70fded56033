"""What a Mynaportal application states besides the number: 照会同意 and 不開示希望 (interfaces.md, portal;
seed ⑦-2), recorded "exactly as the procedures extract does" (:mod:`jutaku.domain.wishes`).

Every application that identifies its person (or is accepted) becomes a :class:`PortalApplication`
keyed by its 受付番号, holding the stated consent and wish, the registration outcome and 受付日時 —
the source of the consent. An application seen for the first time with 不開示希望 ``1`` sets the person's
sticky flag (:func:`jutaku.registry.non_disclosure.record_wishes`, audited ``non_disclosure:set``,
source ``portal``); the same application delivered again updates its record but is not a new wish. A
stated consent of an accepted application is audited ``consent:record`` (never with the 受付番号: a
12-digit receipt may pass the My Number check by chance).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from jutaku.audit.events import AuditEvent
from jutaku.audit.service import AuditEntry
from jutaku.dbutil import adapter, bulk_insert, bulk_update
from jutaku.domain.registration import Outcome
from jutaku.domain.wishes import portal_effects
from jutaku.registry.models import PortalApplication
from jutaku.registry.non_disclosure import record_wishes
from jutaku.registry.pipeline import Prepared

_FIELDS = ("received_at", "consent", "non_disclosure_wish", "outcome", "job_id", "recorded_at")


def record_portal_wishes(declared: Sequence[tuple[Prepared, Outcome]], person_pks: Mapping[str, int],
                         job_id: int) -> list[AuditEntry]:
    """Record the applications of one chunk (in its transaction); returns the audit entries to write."""
    if not declared:
        return []
    known = dict(PortalApplication.objects.filter(receipt_no__in=[p.receipt_no for p, _ in declared])
                 .values_list("receipt_no", "pk"))
    moment = datetime.now(UTC)
    at, now = adapter(PortalApplication, "received_at"), adapter(PortalApplication, "recorded_at")(moment)
    new, again, wishes, audit = [], [], {}, []
    for prep, outcome in declared:
        wishes_of = prep.portal
        if wishes_of is None:  # only portal rows are declared
            continue
        pid = prep.note.person_id
        values = (at(wishes_of.received_at), wishes_of.consent, wishes_of.non_disclosure, outcome.value, job_id, now)
        if prep.receipt_no in known:
            again.append((*values, known[prep.receipt_no]))
        else:
            new.append((prep.receipt_no, person_pks[pid], *values))
            if wishes_of.non_disclosure:
                wishes[person_pks[pid]] = pid
        if portal_effects(outcome, identified=True)[1] and wishes_of.consent is not None:
            audit.append(AuditEntry(AuditEvent.CONSENT_RECORD, [pid], "given" if wishes_of.consent else "not_given",
                                    {"source": "portal"}))
    bulk_insert(PortalApplication, ("receipt_no", "person", *_FIELDS), new)
    bulk_update(PortalApplication, "id", _FIELDS, again)
    return [*audit, *record_wishes(wishes, source="portal", now=moment)]
