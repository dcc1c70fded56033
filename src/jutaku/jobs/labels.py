"""What staff read of a job: its kind by name, and its counts — each outcome code with its meaning, each
other counter by its name (seed V-1: names, not codes).

A job's ``counts`` mix two things. Outcome codes (``OK``, ``E03``, ``X07``…) are part of the contract: they
are in the lists staff handle (差戻リスト, 照会対象外リスト) and in interfaces.md, so they are shown *with*
their meaning (``E03 氏名カナ・生年月日・性別が対象者情報と一致しません``). Counters that are not codes
(``created``, ``persons``, the rows a deletion removed) are internal identifiers: only their name is shown.
The kinds' names are :data:`jutaku.domain.jobs.KIND_LABELS`; this module adds each kind's codes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from jutaku.domain.inquiry import EXCLUSION_LABELS
from jutaku.domain.inquiry import OUTCOME_LABELS as INQUIRY_OUTCOMES
from jutaku.domain.jobs import kind_label
from jutaku.domain.juki import LABELS as JUKI_OUTCOMES
from jutaku.domain.linkage import LABELS as LINKAGE_OUTCOMES
from jutaku.formats.layouts import REGISTRATION_OUTCOME

__all__ = ["COUNT_LABELS", "count_label", "count_rows", "count_text", "is_code", "kind_label"]

#: A contract code (``OK``, ``E03``, ``X07``, ``N01``…), as opposed to a counter's identifier.
_CODE: Final = re.compile(r"OK|[A-Z]\d{2}")

#: The counters of a file-request job (統合利用番号取得要求, 住基ネット照会).
_REQUESTS: Final = {"created": "作成した要求（件）", "X07": EXCLUSION_LABELS["X07"]}
#: What a bulk deletion removed, by table (:mod:`jutaku.retention.erasure`).
DELETION_COUNTS: Final = MappingProxyType({
    "persons": "削除した対象者（人）", "numbers": "個人番号", "integrated": "団体内統合利用番号",
    "inquiry_results": "情報照会の回答", "juki_results": "住基ネット照会の回答", "inquiry_requests": "情報照会の要求",
    "juki_queries": "住基ネット照会", "linkage_requests": "統合利用番号の取得要求", "filings": "手続",
    "status_changes": "状態の履歴", "status_notices": "状態の届出勧奨", "portal_applications": "マイナポータル申請",
    "rejections": "差戻リストの行", "subject_notes": "請求のメモ（消去）", "keys": "データ鍵（暗号消去）",
    "registers": "登録情報（氏名・生年月日・住所等）", "already": "削除済みのため対象外",
})


def _file_import(kind: str) -> Mapping[str, str]:
    from jutaku.registry import procedures, targets

    return {"import-targets": targets.OUTCOMES, "import-procedures": procedures.OUTCOMES}[kind]


#: Each kind's counts by name (the imports of the housing system's extracts are added by :func:`count_label`:
#: their modules own them).
COUNT_LABELS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType({
    "register-kit": REGISTRATION_OUTCOME, "register-portal": REGISTRATION_OUTCOME,
    "linkage-request": _REQUESTS, "linkage-import": LINKAGE_OUTCOMES,
    "inquiry-create": {**EXCLUSION_LABELS, "requests": "照会要求（件）", "persons": "照会対象者（人）",
                       "household": "同一世帯の照会対象者（連絡先等情報、人）"},
    "inquiry-import": INQUIRY_OUTCOMES, "juki-request": _REQUESTS, "juki-import": JUKI_OUTCOMES,
    "bulk-deletion": DELETION_COUNTS,
})


def is_code(key: str) -> bool:
    return _CODE.fullmatch(key) is not None


def count_label(kind: str, key: str) -> str:
    """The meaning of one count of a job of ``kind`` ('' when there is none)."""
    labels = _file_import(kind) if kind in ("import-targets", "import-procedures") else COUNT_LABELS.get(kind, {})
    return labels.get(key, "")


def count_text(kind: str, key: str) -> str:
    """A count as staff read it: a code with its meaning (``E03 …``), a counter by its name alone."""
    label = count_label(kind, key)
    if is_code(key):
        return f"{key} {label}" if label else key
    return label or key


def count_rows(kind: str, counts: Mapping[str, int]) -> list[tuple[str, str, int]]:
    """(code, meaning, count) for each count, codes first (``OK`` leading), then the counters; ``code`` is
    '' for a counter, whose meaning is then its name (its identifier when it has none); a code without a
    meaning has '' for it."""
    keys = sorted(counts, key=lambda k: (not is_code(k), k[0] != "O", k))
    return [(k, count_label(kind, k), int(counts[k])) if is_code(k) else ("", count_label(kind, k) or k, int(counts[k]))
            for k in keys]
