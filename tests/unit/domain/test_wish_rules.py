"""A person's wishes (jutaku.domain.wishes; issue 12 item 1): the non-disclosure wish is never lost and
never resurrected by an old statement; a portal consent counts as the person's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain.registration import KnownPerson, Notification, Outcome
from jutaku.domain.wishes import (
    ACCEPTED,
    clear_refusal,
    consents,
    filing_wish_is_new,
    identifies,
    portal_effects,
)

PERSON = KnownPerson("トエイタロウ", date(1970, 1, 23), "1", True)
ROW = Notification(1, "1000000001", None, "トエイタロウ", date(1970, 1, 23), "1")
# hypothesis takes naive bounds and attaches the time zone itself
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1),  # noqa: DTZ001
                       timezones=st.just(UTC))


@given(outcome=st.sampled_from(list(Outcome)), identified=st.booleans())
def test_the_wish_applies_whenever_the_application_is_the_persons_the_consent_only_when_accepted(
        outcome: Outcome, identified: bool) -> None:
    wish, consent = portal_effects(outcome, identified)
    assert consent is (outcome in ACCEPTED)
    assert wish is (identified or outcome in ACCEPTED)
    assert not consent or wish  # a consent is never taken from an application whose wish would be ignored


def test_identity_is_the_register_match_whatever_the_number() -> None:
    assert identifies(ROW, PERSON)  # its number is invalid (E01): it is still the person's application
    assert not identifies(ROW._replace(kana_key="ヤマダハナコ"), PERSON)
    assert not identifies(ROW._replace(sex="2"), PERSON)
    assert not identifies(ROW._replace(malformed=True), PERSON)
    assert not identifies(ROW, None)


@given(old=st.sampled_from([None, False, True]), wish=st.booleans())
def test_only_a_new_statement_of_the_wish_counts(old: bool | None, wish: bool) -> None:
    assert filing_wish_is_new(old, wish) is (wish and old is not True)


@given(filing=st.booleans(), portal=st.sampled_from([None, False, True]))
def test_a_filing_or_the_latest_portal_statement_gives_consent(filing: bool, portal: bool | None) -> None:
    assert consents(filing, portal) is (filing or portal is True)


@given(requested=moments, delta=st.integers(min_value=-10**6, max_value=10**6), flagged=st.booleans())
def test_a_wish_stated_after_the_clear_request_blocks_it(requested: datetime, delta: int, flagged: bool) -> None:
    wish_at = requested + timedelta(seconds=delta)
    refusal = clear_refusal(flagged, wish_at, requested)
    assert (refusal is None) is (flagged and delta <= 0)
    assert clear_refusal(flagged, None, requested) is (None if flagged else clear_refusal(False, None, requested))
