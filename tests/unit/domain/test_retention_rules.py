"""What a deletion leaves and how long a backup keeps it (jutaku.domain.retention, ADR 0013)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain.retention import (
    ERASED,
    KEPT,
    MAX_RETENTION_DAYS,
    BackupCopy,
    backup_expires_on,
    check_retention_days,
    effective_expiry,
    is_blank,
    is_expired,
    last_backup_expiry,
    refills,
)

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
retention = st.integers(min_value=1, max_value=MAX_RETENTION_DAYS)
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1),  # noqa: DTZ001 - naive bounds
                       timezones=st.just(UTC))
copies = st.lists(st.builds(BackupCopy, moments, days, st.booleans()), max_size=8)


def test_a_shell_keeps_only_categories_and_blanks_every_identifying_field() -> None:
    assert set(KEPT) == {"kind", "housing_category", "status"} and not set(KEPT) & set(ERASED)
    for field in ("name", "name_kana", "kana_key", "birth_date", "sex", "address", "postal_code", "household_no",
                  "relationship", "housing_code", "application_no", "status_date", "non_disclosure"):
        assert field in ERASED
    assert is_blank(dict(ERASED)) and not is_blank({**ERASED, "name": "都営 太郎"})


@given(status=st.sampled_from("1234"), status_date=st.none() | days, deleted_on=days)
def test_only_a_row_saying_the_person_became_current_after_the_deletion_refills_a_shell(
        status: str, status_date: date | None, deleted_on: date) -> None:
    assert refills(status, status_date, deleted_on) == (status == "1" and status_date is not None
                                                        and status_date > deleted_on)


@given(taken=days, keep=retention)
def test_a_backup_expires_its_retention_after_the_day_it_was_taken(taken: date, keep: int) -> None:
    expires = backup_expires_on(taken, keep)
    assert expires - taken == timedelta(days=keep)
    assert not is_expired(BackupCopy(datetime(2000, 1, 1, tzinfo=UTC), expires), expires - timedelta(days=1))
    assert is_expired(BackupCopy(datetime(2000, 1, 1, tzinfo=UTC), expires), expires)


@given(taken=days, recorded=retention, now=retention)
def test_a_shorter_retention_prunes_earlier_a_longer_one_never_later_than_recorded(taken: date, recorded: int,
                                                                                   now: int) -> None:
    promised = backup_expires_on(taken, recorded)
    assert effective_expiry(taken, promised, now) == min(promised, backup_expires_on(taken, now))
    assert effective_expiry(taken, promised, now) <= promised


@given(backups=copies, deleted_at=moments)
def test_the_deletion_record_names_the_last_expiry_of_a_present_backup_begun_before_the_deletion(
        backups: list[BackupCopy], deleted_at: datetime) -> None:
    held = [b for b in backups if b.present and b.taken_at <= deleted_at]
    found = last_backup_expiry(backups, deleted_at)
    assert found == (max(b.expires_on for b in held) if held else None)
    later = [*backups, BackupCopy(deleted_at + timedelta(seconds=1), date(2099, 1, 1))]
    assert last_backup_expiry(later, deleted_at) == found  # a backup begun afterwards holds none of it


@pytest.mark.parametrize("bad", [0, -1, MAX_RETENTION_DAYS + 1])
def test_a_retention_outside_its_range_is_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="retention"):
        check_retention_days(bad)
