"""Whose word a person's 状態 is (status precedence), pure.

Three sources set a person's 状態 (interfaces.md, targets; SYSTEM.md F5):

- the housing system's extract (対象者抽出, ``extract``): residents and applicants, 状態 1–4;
- Juki-net (住基ネット, ``juki``): a death it reports (消除:死亡, Juki-net outcome ``D02``);
- a supervisor's correction (責任者による訂正, ``correction``), with a reason, audited.

The rules:

1. A Juki-net death always applies: 状態 死亡 with Juki-net's date, source ``juki`` (new evidence, whatever
   the person's status was, a supervisor's earlier correction included).
2. An extract row sets 状態 — except over a death recorded from Juki-net. That death stays: a row saying
   anything but 死亡 *disagrees* (row outcome :data:`DISAGREES`, ``S01``): the person goes on the notice list
   (届出勧奨リスト) and the status, its date and its source are unchanged. A row saying 死亡 agrees: nothing
   changes either (Juki-net's date and source are kept).
3. Only a supervisor's correction replaces a death recorded from Juki-net (to 有効, 退去 or 辞退・不合格);
   its source is ``correction``, and later extracts apply again as in rule 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

DECEASED: Final = "4"
STATUSES: Final = ("1", "2", "3", "4")
#: Row outcome of a targets row that disagrees with a death recorded from Juki-net (docs/outcome-codes.md).
DISAGREES: Final = "S01"
DISAGREES_LABEL: Final = "住基ネットで死亡が記録されているため状態を更新しません（届出勧奨リスト）"


class StatusSource(StrEnum):
    EXTRACT = "extract"
    JUKI = "juki"
    CORRECTION = "correction"


SOURCE_LABELS: Final = {StatusSource.EXTRACT: "都住システム", StatusSource.JUKI: "住基ネット",
                        StatusSource.CORRECTION: "責任者の訂正"}


@dataclass(frozen=True)
class Held:
    """The person's current 状態 and who set it."""

    status: str
    source: StatusSource

    @property
    def juki_death(self) -> bool:
        return self.status == DECEASED and self.source is StatusSource.JUKI


@dataclass(frozen=True)
class Verdict:
    """The status to hold after an event, its source, and whether an extract row disagreed (rule 2)."""

    status: str
    source: StatusSource
    disagrees: bool = False

    @property
    def keeps_held(self) -> bool:
        """The extract row leaves status, date and source as they were."""
        return self.source is StatusSource.JUKI


class CorrectionRefused(ValueError):
    """A correction the rules do not allow; the message is for staff (Japanese)."""


def from_extract(held: Held | None, incoming: str) -> Verdict:
    """Rule 2: the status after an extract row saying ``incoming`` (``held`` is ``None`` for a new person)."""
    if held is not None and held.juki_death:
        return Verdict(DECEASED, StatusSource.JUKI, disagrees=incoming != DECEASED)
    if held is not None and held.status == incoming:
        return Verdict(incoming, held.source)
    return Verdict(incoming, StatusSource.EXTRACT)


def from_juki_death(held: Held | None) -> Verdict:
    """Rule 1: a death reported by Juki-net, whatever was held."""
    del held
    return Verdict(DECEASED, StatusSource.JUKI)


def correct(held: Held, new_status: str) -> Verdict:
    """Rule 3: a supervisor replaces a death recorded from Juki-net. Raises :class:`CorrectionRefused`."""
    if not held.juki_death:
        raise CorrectionRefused("訂正できるのは住基ネットで記録された死亡だけです（その他の状態は対象者抽出で更新されます）")
    if new_status not in STATUSES or new_status == DECEASED:
        raise CorrectionRefused("訂正後の状態は 1 有効・2 退去・3 辞退・不合格 のいずれかです")
    return Verdict(new_status, StatusSource.CORRECTION)
