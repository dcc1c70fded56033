"""The legal allow-list file (``allowlist.csv``): parsed and checked whole, pure (no database).

Columns: ``housing_category, procedure_code, procedure_name, info_code, info_name, provider,
legal_basis, requires_consent, status``. ``housing_category`` is the 住宅区分 *name* (公営住宅 …, as the
spec's file has it) and becomes its code (``1``–``4``). Any invalid row rejects the whole file
(``R_ALLOWLIST``, with the line number): a half-loaded legal rule set would silently deny or permit.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from typing import Final

from jutaku.domain.free_text import contains_my_number
from jutaku.formats import sniff
from jutaku.formats.errors import FileRejected
from jutaku.formats.layouts import HOUSING
from jutaku.formats.validate import has_bad_chars

HEADER: Final = ("housing_category", "procedure_code", "procedure_name", "info_code", "info_name", "provider",
                 "legal_basis", "requires_consent", "status")
STATUSES: Final = frozenset({"verified", "verified-provider", "inferred"})
MAX_BYTES: Final = 1 << 20
_PROCEDURE: Final = re.compile(r"JT[0-9]{14}")
_INFO: Final = re.compile(r"TM[0-9]{14}")
_HOUSING_BY_NAME: Final = {name: code for code, name in HOUSING.items()}
_TEXT_LIMITS: Final = {"procedure_name": 100, "info_name": 100, "provider": 100, "legal_basis": 300}


@dataclass(frozen=True)
class Rule:
    housing_category: str  # code 1–4
    procedure_code: str
    procedure_name: str
    info_code: str
    info_name: str
    provider: str
    legal_basis: str
    requires_consent: bool
    status: str


@dataclass(frozen=True)
class AllowList:
    sha256: str
    rules: tuple[Rule, ...]


def parse_allowlist(data: bytes) -> AllowList:
    """Parse and check the whole file; raise :class:`FileRejected` on the first problem."""
    if not data.strip():
        raise FileRejected("R_EMPTY", what="ファイルが空です（0 バイト）" if not data else "")
    if len(data) > MAX_BYTES:
        raise FileRejected("R_SIZE", f"over {MAX_BYTES} bytes", what=f"ファイルが大きすぎます（上限 {MAX_BYTES:,} バイト）")
    found = sniff.identify(data)
    if found.known not in (None, sniff.ALLOWLIST) or found.kind in ("zip", "media", "manifest"):
        raise FileRejected("R_HEADER", f"the file is {found.known or found.kind}",
                           what=f"{sniff.describe(found)}（許可リストではありません）", hint=sniff.advice(found),
                           belongs_to=found.known, line=1)
    body = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        raise FileRejected("R_ENCODING", f"UTF-8 expected, line {line}", line=line,
                           what=f"{line} 行目を UTF-8 として読めません（許可リストは UTF-8 のファイルです）",
                           hint="ファイル全体を UTF-8 で保存し直してから、もう一度読み込んでください。") from None
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error:
        raise FileRejected("R_CSV") from None
    if not records or tuple(records[0]) != HEADER:
        raise FileRejected("R_HEADER", "expected " + ",".join(HEADER), line=1,
                           what="1 行目（項目名の行）が許可リストの様式と一致しません："
                                + sniff.header_difference(HEADER, records[0] if records else ()))
    rules: list[Rule] = []
    seen: set[tuple[str, str, str]] = set()
    for line_no, cells in enumerate(records[1:], start=2):
        if not cells:
            continue
        rule = _rule(cells, line_no)
        key = (rule.housing_category, rule.procedure_code, rule.info_code)
        if key in seen:
            raise FileRejected("R_ALLOWLIST", f"line {line_no}: the same triple twice")
        seen.add(key)
        rules.append(rule)
    if not rules:
        raise FileRejected("R_EMPTY", "no rules")
    return AllowList(hashlib.sha256(data).hexdigest(), tuple(rules))


def _rule(cells: list[str], line_no: int) -> Rule:
    def bad(what: str) -> FileRejected:
        return FileRejected("R_ALLOWLIST", f"line {line_no}: {what}")

    if len(cells) != len(HEADER):
        raise bad(f"{len(cells)} cells, {len(HEADER)} expected")
    values = dict(zip(HEADER, (c.strip() for c in cells), strict=True))
    housing = _HOUSING_BY_NAME.get(values["housing_category"])
    if housing is None:
        raise bad("housing_category is not a 住宅区分")
    if not _PROCEDURE.fullmatch(values["procedure_code"]):
        raise bad("procedure_code is not JT + 14 digits")
    if not _INFO.fullmatch(values["info_code"]):
        raise bad("info_code is not TM + 14 digits")
    for name, limit in _TEXT_LIMITS.items():
        if not values[name] or len(values[name]) > limit or has_bad_chars(values[name]):
            raise bad(f"{name} empty, too long or with control characters")
        if contains_my_number(values[name]):
            raise bad(f"{name} holds a number shaped like a 個人番号")
    if values["requires_consent"] not in ("0", "1"):
        raise bad("requires_consent is not 0 or 1")
    if values["status"] not in STATUSES:
        raise bad("status is not " + ", ".join(sorted(STATUSES)))
    return Rule(housing, values["procedure_code"], values["procedure_name"], values["info_code"],
                values["info_name"], values["provider"], values["legal_basis"], values["requires_consent"] == "1",
                values["status"])
