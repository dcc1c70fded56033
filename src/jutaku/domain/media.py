"""What a file holds, and so how it is written and carried (PIA II-6 外部記録媒体, III 保管・消去).

One table, keyed by interface, says how sensitive each file the system reads or writes is:

- ``SPECIFIC`` — 特定個人情報: a My Number, an integrated number (団体内統合利用番号), or the content of an
  answer obtained through information linkage or Juki-net (tax, welfare, disability, family register,
  identity). Written encrypted (``.enc``) unless a person explicitly asks for plain text (audited), and
  every such file read or written stays on the media ledger as *awaiting erasure* until someone confirms
  it was erased from the medium that carried it.
- ``PERSONAL`` — a person's 個人ID or name with codes or fixed Japanese reasons, but none of the above
  (rejection and exclusion lists, notice list, deletion list and report, audit report):
  working lists for staff at the dedicated terminal, written plain (a spreadsheet must open them).
- ``NONE`` — no resident data (statistics, charts, staff-account review, the legal allow-list).

Whatever the class, every file is written 0600 (:mod:`jutaku.formats.files`) and every output expires
(:func:`expires_at`). An interface the table does not know is treated as ``SPECIFIC`` (deny by default).
Pure: no Django, no clock.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Final

from jutaku.domain.free_text import contains_my_number


class Sensitivity(enum.StrEnum):
    SPECIFIC = "specific"
    PERSONAL = "personal"
    NONE = "none"


_S = Sensitivity
#: THE table: interface name (``Layout.name`` or a report's interface) -> sensitivity.
SENSITIVITY: Final[Mapping[str, Sensitivity]] = MappingProxyType({
    # My Numbers
    "kit": _S.SPECIFIC, "portal": _S.SPECIFIC, "linkage-request": _S.SPECIFIC, "juki-request": _S.SPECIFIC,
    # integrated numbers
    "linkage-result": _S.SPECIFIC, "inquiry-request": _S.SPECIFIC,
    # answers obtained through information linkage / Juki-net (values, not only codes)
    "inquiry-result": _S.SPECIFIC, "juki-result": _S.SPECIFIC, "business-export": _S.SPECIFIC,
    # 個人ID, names, codes and fixed reasons
    "targets": _S.PERSONAL, "procedures": _S.PERSONAL, "deletion-targets": _S.PERSONAL,
    "rejections": _S.PERSONAL, "deletion-report": _S.PERSONAL, "notice-list": _S.PERSONAL,
    "audit-report": _S.PERSONAL,
    # the disclosure report holds the answers obtained from other agencies (issue 12 item 9)
    "disclosure-report": _S.SPECIFIC,
    # no resident data
    "statistics": _S.NONE, "statistics-chart": _S.NONE, "access-review": _S.NONE, "allowlist": _S.NONE,
})


def sensitivity(interface: str) -> Sensitivity:
    """The class of ``interface``; an unknown interface is ``SPECIFIC``."""
    return SENSITIVITY.get(interface, Sensitivity.SPECIFIC)


def encrypted_by_default(interface: str) -> bool:
    """True when a file of ``interface`` is written encrypted unless plain text is explicitly asked for."""
    return sensitivity(interface) is Sensitivity.SPECIFIC


def non_specific_interfaces() -> frozenset[str]:
    """The interfaces known not to hold specific personal information (every other one does)."""
    return frozenset(name for name, s in SENSITIVITY.items() if s is not Sensitivity.SPECIFIC)


# --- the media ledger: hand-over and erasure ------------------------------------------------------

#: Coded refusals of a hand-over or an erasure confirmation (Japanese, shown as they are).
ERRORS: Final[Mapping[str, str]] = MappingProxyType({
    "M01": "媒体IDは英数字・ハイフン・ピリオド・下線の40文字以内で指定してください",
    "M02": "搬送者は60文字以内の氏名・所属で指定してください（番号・制御文字は書かない）",
    "M03": "媒体IDが台帳の記録（引渡し時の媒体）と異なります",
    "M04": "この記録の媒体からの消去は確認済みです",
    "M05": "媒体管理台帳にない記録です",
    "M06": "この記録の引渡しは記録済みです",
    "M07": "媒体ID・搬送者に個人番号と同じ形の番号は書けません",
})
_MEDIUM_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}")
_MAX_CARRIER: Final = 60
_DIGIT_RUN: Final = re.compile(r"[0-9０-９]{8,}")


@dataclass(frozen=True)
class LedgerState:
    """What the ledger holds about one file's medium."""

    interface: str
    outcome: str = "ok"
    medium: str = ""
    handed_over: bool = False
    erased: bool = False


def medium_error(medium: str) -> str | None:
    """``M01`` unless ``medium`` is an operator's medium id (label of the USB stick, disc, …); ``M07`` when
    it is one but holds a written My Number (ADR 0020)."""
    if not _MEDIUM_ID.fullmatch(medium):
        return "M01"
    return "M07" if contains_my_number(medium) else None


def carrier_error(carrier: str) -> str | None:
    """``M02`` unless ``carrier`` is a short printable name (who carried the medium; never a number)."""
    text = carrier.strip()
    if contains_my_number(text):
        return "M07"
    if not text or len(text) > _MAX_CARRIER or not text.isprintable() or _DIGIT_RUN.search(text):
        return "M02"
    return None


def handover_error(state: LedgerState, medium: str, carrier: str) -> str | None:
    """Why the hand-over of the file on ``medium`` by ``carrier`` cannot be recorded, or None."""
    if state.erased:
        return "M04"
    if state.handed_over:
        return "M06"
    if state.medium and state.medium != medium:
        return "M03"
    return medium_error(medium) or carrier_error(carrier)


def erasure_error(state: LedgerState, medium: str) -> str | None:
    """Why the erasure of the file from ``medium`` cannot be confirmed, or None."""
    if state.erased:
        return "M04"
    if state.medium and state.medium != medium:
        return "M03"
    return medium_error(medium)


def awaits_erasure(state: LedgerState) -> bool:
    """A file of specific personal information used without a refusal, or any file handed over on a
    medium, until its erasure from that medium is confirmed."""
    if state.erased:
        return False
    return state.handed_over or (state.outcome == "ok" and sensitivity(state.interface) is Sensitivity.SPECIFIC)


# --- retention of the files the system writes -----------------------------------------------------

DEFAULT_RETENTION_DAYS: Final = 3
MAX_RETENTION_DAYS: Final = 365


def expires_at(created_at: datetime, retention_days: int) -> datetime:
    """When an output written at ``created_at`` is purged (0 days: at the start of the next command)."""
    if not 0 <= retention_days <= MAX_RETENTION_DAYS:
        raise ValueError(f"retention must be 0..{MAX_RETENTION_DAYS} days")
    return created_at + timedelta(days=retention_days)
