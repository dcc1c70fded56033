"""Registration outcomes of My Number notifications (interfaces.md, "Registration outcomes").

Each input row ends in exactly one outcome; ``E`` rows change nothing. Where several codes apply,
the lowest wins (``E00`` before ``E01`` … before ``E07``); ``I01`` and ``OK`` only when no ``E`` code
applies. The checks follow the PIA's requirements (III-2 リスク1/3): the check digit is verified, the
person must be a known resident or applicant whose name kana, birth date and sex match (機械的に
チェック), and the same number can never belong to two persons.

In-file conflicts (``E06``): among the rows of one file that identify a person (those to which none of
``E00``–``E03`` applies), a person appearing with two different numbers, or a number appearing with two
different persons, makes every row of that conflict ``E06`` and none of them is registered. An exact
repeat (same person, same number) is not a conflict: the first occurrence registers and the later one
finds the number already there (``I01``). Rows rejected for ``E00``–``E03`` take no part in conflicts:
they do not identify a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final, NamedTuple

from jutaku.domain.my_number import mask


class Outcome(StrEnum):
    OK = "OK"
    ALREADY_REGISTERED = "I01"
    MALFORMED = "E00"
    BAD_NUMBER = "E01"
    UNKNOWN_PERSON = "E02"
    MISMATCH = "E03"
    NUMBER_OF_ANOTHER = "E04"
    PERSON_HAS_OTHER_NUMBER = "E05"
    IN_FILE_CONFLICT = "E06"
    NOT_CURRENT = "E07"


class Notification(NamedTuple):
    """One parsed input row. ``number`` is the normalised number, or ``None`` when it is invalid.

    A named tuple, not a dataclass: a million are built per run and a tuple costs a fifth of a frozen
    dataclass to build and to send between processes. Its ``repr`` masks the number.
    """

    line_no: int
    person_id: str
    number: str | None
    kana_key: str
    birth_date: date | None
    sex: str
    malformed: bool = False

    def __repr__(self) -> str:
        shown = "None" if self.number is None else repr(mask(self.number))
        return (f"Notification(line_no={self.line_no}, person_id={self.person_id!r}, number={shown}, "
                f"malformed={self.malformed})")

    def __str__(self) -> str:
        return self.__repr__()


@dataclass(frozen=True, slots=True)
class KnownPerson:
    kana_key: str
    birth_date: date | None  # None: a deleted person's shell, which no notification matches
    sex: str
    current: bool


class Held(StrEnum):
    """What the number store holds for the row's person, compared with the row's number."""

    NOTHING = "nothing"
    SAME = "same"
    OTHER = "other"


def identify(row: Notification, person: KnownPerson | None) -> Outcome | None:
    """``E00``–``E03``, the checks that need nothing but the row and the register; ``None`` if it passes."""
    if row.malformed:
        return Outcome.MALFORMED
    if row.number is None:
        return Outcome.BAD_NUMBER
    if person is None:
        return Outcome.UNKNOWN_PERSON
    if (row.kana_key, row.birth_date, row.sex) != (person.kana_key, person.birth_date, person.sex):
        return Outcome.MISMATCH
    return None


_MANY: Final = object()


def conflicting_lines(identified: Sequence[tuple[int, str, str]]) -> set[int]:
    """Lines of ``(line_no, person_id, number)`` rows that take part in an in-file conflict (``E06``).

    Two passes over ``identified`` with one partner (or a "many" marker) per person and per number, so
    memory stays proportional to the distinct keys, not to the pairs.
    """
    partner_of_person: dict[str, object] = {}
    partner_of_number: dict[str, object] = {}
    for _, person_id, number in identified:
        if partner_of_person.setdefault(person_id, number) != number:
            partner_of_person[person_id] = _MANY
        if partner_of_number.setdefault(number, person_id) != person_id:
            partner_of_number[number] = _MANY
    return {
        line for line, person_id, number in identified
        if partner_of_person[person_id] is _MANY or partner_of_number[number] is _MANY
    }


def decide(row: Notification, person: KnownPerson | None, *, owner: str | None, held: Held,
           in_conflict: bool) -> Outcome:
    """The one outcome of ``row``.

    ``owner`` is the person the row's number is registered to (``None``: nobody); ``held`` is what is
    registered for the row's person; both include rows registered earlier in the same file.
    """
    early = identify(row, person)
    if early is not None:
        return early
    if owner is not None and owner != row.person_id:
        return Outcome.NUMBER_OF_ANOTHER
    if held is Held.OTHER:
        return Outcome.PERSON_HAS_OTHER_NUMBER
    if in_conflict:
        return Outcome.IN_FILE_CONFLICT
    if person is None or not person.current:
        return Outcome.NOT_CURRENT
    if held is Held.SAME:
        return Outcome.ALREADY_REGISTERED
    return Outcome.OK
