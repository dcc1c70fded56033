"""A person's wishes about inquiries, pure: 不開示希望 (non-disclosure, DV etc.) and 照会同意 (consent).

**Non-disclosure** (seed ⑦-1, ⑦-2; IV-3 ＤＶ等被害者の特定個人情報の保護). A person's flag is *sticky*: once
set it applies to every later inquiry about the person (不開示コード 2) until a supervisor clears it. It
is set by every *new* statement of the wish, whatever path it comes by:

- a filing of the procedures extract with 不開示希望 ``1`` that is new, or whose wish changed from 0 to 1
  (:func:`filing_wish_is_new`; an unchanged filing listed again is not a new statement, so it does not
  undo a supervisor's clear);
- a Mynaportal application (LoGo form) with ``<不開示希望>1`` seen for the first time (by 受付番号) that
  identifies its person — 個人ID, 氏名カナ, 生年月日 and 性別 match the register — even when its number is
  rejected (:func:`portal_effects`): the wish only ever protects, and a rejected application must not
  lose it;
- a registrar or supervisor setting it in the system, with a reason.

Clearing needs a supervisor's request and a second supervisor's approval (dual control). A new statement
of the wish recorded after the request was made blocks its approval (:func:`clear_refusal`): the
approver would otherwise clear a wish nobody has reviewed.

**Consent**. A filing's 照会同意 is the consent given in that filing. A Mynaportal application's
``<照会同意>`` is the person's consent, recorded with its source (受付番号, 受付日時); the latest accepted
application that states it (outcome ``OK`` or ``I01``) is the one that counts, so a later application
with ``0`` withdraws an earlier ``1`` given through the portal. A person consented for a filing when the
filing says so *or* their latest portal statement does (:func:`consents`); a filing's ``0`` means "not
given in that filing", not a withdrawal of the portal consent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from jutaku.domain.registration import KnownPerson, Notification, Outcome

#: Registration outcomes of an accepted application (its number registered, or already registered).
ACCEPTED: Final = frozenset({Outcome.OK, Outcome.ALREADY_REGISTERED})


def identifies(row: Notification, person: KnownPerson | None) -> bool:
    """The application names a known person and its 氏名カナ, 生年月日 and 性別 match the register."""
    return (not row.malformed and person is not None
            and (row.kana_key, row.birth_date, row.sex) == (person.kana_key, person.birth_date, person.sex))


def portal_effects(outcome: Outcome, identified: bool) -> tuple[bool, bool]:
    """(the application's 不開示希望 applies, its 照会同意 applies) for a registration ``outcome``.

    The wish applies whenever the application identifies its person; the consent, which widens what
    may be asked, only from an accepted application.
    """
    accepted = outcome in ACCEPTED
    return identified or accepted, accepted


def filing_wish_is_new(old_wish: bool | None, wish: bool) -> bool:
    """A filing states the wish anew: a new filing with the wish (``old_wish`` ``None``) or 0 → 1."""
    return wish and not old_wish


def consents(filing_consent: bool, portal_consent: bool | None) -> bool:
    """The person's consent for one filing: the filing's own, or their latest portal statement's."""
    return filing_consent or portal_consent is True


def clear_refusal(flagged: bool, wish_at: datetime | None, requested_at: datetime) -> str | None:
    """Why a clear requested at ``requested_at`` may not be carried out now (``None``: it may)."""
    if not flagged:
        return "不開示は設定されていません"
    if wish_at is not None and wish_at > requested_at:
        return "解除の依頼の後に新しい不開示希望が届いています（解除するには改めて依頼してください）"
    return None
