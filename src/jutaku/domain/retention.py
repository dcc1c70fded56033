"""What a deletion leaves, and how long a backup keeps what it deleted (pure; ADR 0013).

Seed III 保管・消去 リスク３ (特定個人情報が消去されずいつまでも存在するリスク): after a bulk deletion nothing
readable about the person may remain but the 削除記録 and the access record. The person's register entry
becomes a **shell**: the 個人ID, 区分, 住宅区分 and 状態 stay (they say who was deleted and why the
number was no longer needed); every other field is blanked to :data:`ERASED` — the database repeats this
rule as the constraint ``person_erased_is_blank`` (style habit 6).

A shell is filled again only by a target extract that says the person became current *after* the
deletion (a new application, a return): :func:`refills`. An extract that still lists a moved-out or
deceased person, or a current resident deleted on a use-suspension request, leaves the shell as it is.

Backups: a backup is kept for the retention period and then pruned (:func:`backup_expires_on`); the
deletion record states the day by which the last backup that still holds the person expires
(:func:`last_backup_expiry`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Final

#: The register fields a deletion blanks, with their blank value (``None``: NULL).
ERASED: Final = MappingProxyType({
    "household_no": "", "relationship": "", "housing_code": "", "application_no": "", "name": "",
    "name_kana": "", "kana_key": "", "kanji_key": "", "birth_date": None, "sex": "", "postal_code": "", "address": "",
    "status_date": None, "non_disclosure": False, "non_disclosure_since": None,
})
#: The register fields a shell keeps besides its 個人ID: categories only, nothing that identifies.
KEPT: Final = ("kind", "housing_category", "status")
CURRENT: Final = "1"
MIN_RETENTION_DAYS: Final = 1
MAX_RETENTION_DAYS: Final = 3650
DEFAULT_RETENTION_DAYS: Final = 90


def is_blank(fields: dict[str, object]) -> bool:
    """Whether a register entry's fields are those of a shell (every erased field blank)."""
    return all(fields.get(name) == blank for name, blank in ERASED.items())


def refills(status: str, status_date: date | None, deleted_on: date) -> bool:
    """Whether a target row may fill a deleted person's shell again: only when it says the person became
    current (状態 1) on a day after the deletion. Any other row leaves the shell blank."""
    return status == CURRENT and status_date is not None and status_date > deleted_on


def check_retention_days(days: int) -> int:
    if not MIN_RETENTION_DAYS <= days <= MAX_RETENTION_DAYS:
        raise ValueError(f"backup retention must be {MIN_RETENTION_DAYS}–{MAX_RETENTION_DAYS} days")
    return days


def backup_expires_on(taken_on: date, retention_days: int) -> date:
    """The day a backup taken on ``taken_on`` (JST) expires: from that day on ``backup prune`` removes it."""
    return taken_on + timedelta(days=check_retention_days(retention_days))


@dataclass(frozen=True)
class BackupCopy:
    """One backup as the catalogue knows it: when its copy began and the day it expires."""

    taken_at: datetime
    expires_on: date
    present: bool = True  # still on disk (or still being written)


def last_backup_expiry(backups: Iterable[BackupCopy], deleted_at: datetime) -> date | None:
    """The day by which the last backup that may hold data deleted at ``deleted_at`` expires, or ``None``
    when no backup still present was begun before the deletion. A backup begun at the deletion's own
    moment counts (it may have copied the data), so the date never promises too early."""
    held = [b.expires_on for b in backups if b.present and b.taken_at <= deleted_at]
    return max(held) if held else None


def effective_expiry(taken_on: date, recorded: date, retention_days: int) -> date:
    """A backup expires on the day recorded when it was taken, or earlier if the retention has been
    shortened since — never later, so a date a deletion record promised stays true."""
    return min(recorded, backup_expires_on(taken_on, retention_days))


def is_expired(copy: BackupCopy, today: date) -> bool:
    return today >= copy.expires_on
