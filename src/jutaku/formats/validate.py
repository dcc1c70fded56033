"""Per-column validation of one row, driven by the :class:`~jutaku.formats.layouts.Layout`.

Rules (``interfaces.md``, conventions; security checklist FILE-04, FILE-05, VAL-07):

- Nothing is trimmed or rewritten: a value is valid exactly as it is in the file, or the cell gets a
  :class:`FieldError`. (A leading or trailing space in a code or date column is therefore ``F_CODE`` /
  ``F_DATE``.) Values stay strings; parsing dates into ``date`` objects is left to the callers, which
  use the same :mod:`jutaku.domain.wareki` functions that validated them.
- The empty string is "absent": ``F_REQUIRED`` for a required column, valid otherwise. A column
  ``required_when=(other, value)`` is required only in rows whose ``other`` cell is exactly ``value``
  (targets: 住宅コード for residents only); its other checks apply whenever it is present.
- ``width`` counts characters (code points), not bytes; ``exact`` columns must have exactly ``width``.
  Columns without a width are capped at ``max_field_chars``.
- ``digits`` are ASCII ``0-9`` only (full-width digits are ``F_DIGITS``).
- Text (``text``, ``kana``) refuses control characters and private-use characters (外字, U+E000–F8FF
  and planes 15–16) with ``F_CHARS``; interchange imports also refuse formula-like cells (``= + - @``
  TAB CR ...) with ``F_FORMULA`` instead of altering them.
- ``my_number`` cells are only length-capped and checked for control characters here: the check digit
  and normalisation belong to :mod:`jutaku.domain.my_number`, because an invalid number is outcome
  ``E01`` rather than ``E00``.
- Every other cell that could hold a written My Number (:attr:`Column.refuses_my_number`: text, kana,
  JSON and digits that could be 12 long) is refused with ``F_MY_NUMBER`` when it does
  (:func:`jutaku.domain.free_text.contains_my_number`; ADR 0020), before any other check, and its value
  is withheld from the row (replaced by the empty string), so no caller can store or echo it.
- Every length is checked before any parser runs; the regular expressions are linear (character
  classes, and the My Number test of :mod:`jutaku.domain.free_text`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from jutaku.domain.free_text import MAY_START, contains_my_number
from jutaku.domain.my_number import MAX_INPUT_LENGTH
from jutaku.formats.errors import FIELD_CODES, FieldError
from jutaku.formats.layouts import Column, Layout

Check = Callable[[str], str | None]
DEFAULT_MAX_FIELD_CHARS: Final = 65_536
#: Longest birth date we hand to the parser (``昭和45年12月31日`` is 11 characters).
_MAX_BIRTH_DATE: Final = 16

_PRIVATE_USE: Final = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff]")


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey("duplicate key")
    return result


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def is_json_object(value: str) -> bool:
    """A JSON object without duplicate keys, NaN or Infinity; deep nesting is refused, not crashed on."""
    try:
        parsed = json.loads(value, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return False
    return isinstance(parsed, dict)


def has_bad_chars(value: str) -> bool:
    """Control characters (as the domain defines them) or private-use characters (外字)."""
    from jutaku.domain.japanese import has_control_chars

    if value.isprintable():  # every control, format and private-use character is non-printable
        return False
    return has_control_chars(value) or _PRIVATE_USE.search(value) is not None


#: Leading characters a spreadsheet may treat as a formula (security checklist FILE-05).
FORMULA_LEAD: Final = frozenset("=+-@\t\r\x00")


def escape_formula(value: str) -> str:
    """Staff-facing cells: prefix ``'`` to a cell a spreadsheet would run as a formula."""
    from jutaku.domain.japanese import is_formula_like

    if value and (value[0] in FORMULA_LEAD or is_formula_like(value)):
        return "'" + value
    return value


def _bounds(col: Column, max_chars: int) -> tuple[int, int]:
    if col.width is not None and col.exact:
        return col.width, col.width
    return 1, col.width if col.width is not None else max_chars


def _text_check(col: Column, interchange: bool, max_chars: int) -> Check:
    from jutaku.domain.japanese import is_formula_like

    lo, hi = _bounds(col, max_chars)
    required = col.required
    formula_like = is_formula_like if interchange else None

    def check(v: str) -> str | None:
        if not v:
            return "F_REQUIRED" if required else None
        if not lo <= len(v) <= hi:
            return "F_WIDTH"
        if not v.isprintable() and has_bad_chars(v):
            return "F_CHARS"
        if formula_like is not None and formula_like(v):
            return "F_FORMULA"
        return None

    return check


def _digits_check(col: Column, interchange: bool, max_chars: int) -> Check:
    lo, hi = _bounds(col, max_chars)
    required = col.required

    def check(v: str) -> str | None:
        if not v:
            return "F_REQUIRED" if required else None
        if not lo <= len(v) <= hi:
            return "F_WIDTH"
        if not (v.isascii() and v.isdigit()):
            return "F_DIGITS"
        return None

    return check


def _code_check(col: Column, interchange: bool, max_chars: int) -> Check:
    allowed = frozenset(col.codes or ())
    required = col.required

    def check(v: str) -> str | None:
        if not v:
            return "F_REQUIRED" if required else None
        return None if v in allowed else "F_CODE"

    return check


def _parser_check(parse: Callable[[str], object], required: bool, ok: Callable[[str], bool]) -> Check:
    def check(v: str) -> str | None:
        if not v:
            return "F_REQUIRED" if required else None
        if not ok(v):
            return "F_DATE"
        try:
            parse(v)
        except ValueError:
            return "F_DATE"
        return None

    return check


def _date_check(col: Column, interchange: bool, max_chars: int) -> Check:
    from jutaku.domain.wareki import parse_date

    return _parser_check(parse_date, col.required, lambda v: len(v) == 8 and v.isascii() and v.isdigit())


def _birth_date_check(col: Column, interchange: bool, max_chars: int) -> Check:
    from jutaku.domain.wareki import parse_birth_date

    return _parser_check(parse_birth_date, col.required, lambda v: len(v) <= _MAX_BIRTH_DATE)


def _timestamp_check(col: Column, interchange: bool, max_chars: int) -> Check:
    from jutaku.domain.wareki import parse_timestamp

    return _parser_check(parse_timestamp, col.required, lambda v: len(v) == 17 and v.isascii() and v.isdigit())


def _my_number_check(col: Column, interchange: bool, max_chars: int) -> Check:
    required = col.required

    def check(v: str) -> str | None:
        if not v:
            return "F_REQUIRED" if required else None
        if len(v) > MAX_INPUT_LENGTH:
            return "F_WIDTH"
        if not v.isprintable() and has_bad_chars(v):
            return "F_CHARS"
        return None

    return check


def _json_check(col: Column, interchange: bool, max_chars: int) -> Check:
    _, hi = _bounds(col, max_chars)
    required = col.required

    def check(v: str) -> str | None:
        if not v:
            return "F_REQUIRED" if required else None
        if len(v) > hi:
            return "F_WIDTH"
        return None if is_json_object(v) else "F_JSON"

    return check


_FACTORIES: Final[Mapping[str, Callable[[Column, bool, int], Check]]] = {
    "text": _text_check,
    "kana": _text_check,
    "digits": _digits_check,
    "code": _code_check,
    "date": _date_check,
    "birth_date": _birth_date_check,
    "timestamp": _timestamp_check,
    "my_number": _my_number_check,
    "json": _json_check,
}


def _column_check(col: Column, interchange: bool, max_chars: int) -> Check:
    """The type's check, preceded by the My Number refusal where the column refuses one."""
    check = _FACTORIES[col.type](col, interchange, max_chars)
    if not col.refuses_my_number:
        return check

    def refusing(v: str) -> str | None:
        return "F_MY_NUMBER" if v and contains_my_number(v) else check(v)

    return refusing


def _hint(col: Column, max_chars: int) -> str:
    if col.width is not None:
        return f"{'exactly' if col.exact else 'max'} {col.width}"
    return f"max {MAX_INPUT_LENGTH if col.type == 'my_number' else max_chars}"


#: Characters a text cell may hold on the fast path: printable ASCII, Latin-1 letters and signs,
#: general punctuation, CJK symbols, kana, ideographs and full-width forms. None of them is a control,
#: format or private-use character (a test proves it); anything else takes the per-column path.
_SAFE_OTHER: Final = (
    r"\u00a0-\u00ac\u00ae-\u00ff\u2010-\u2027\u2030-\u205e\u3000-\u30ff\u3400-\u4dbf"
    r"\u4e00-\u9fff\uf900-\ufaff\uff01-\uffef"
)
_SAFE: Final = r"\x20-\x7e" + _SAFE_OTHER
#: The same minus ``= + - @`` (the formula starters among them) for the first character.
_SAFE_FIRST: Final = r"\x20-\x2a\x2c\x2e-\x3c\x3e\x3f\x41-\x7e" + _SAFE_OTHER
SEP: Final = "\x1f"  # joins the cells; no fast-path class contains it
_MEMO_SIZE: Final = 100_000
_POST_CHECKED: Final = frozenset({"date", "birth_date", "timestamp", "json"})


def _fast_pattern(col: Column, interchange: bool, max_chars: int) -> str:
    """A regular expression accepting only cells the column check accepts (a subset: the common case)."""
    lo, hi = _bounds(col, max_chars)
    pattern = {
        "digits": f"[0-9]{{{lo},{hi}}}",
        "code": "(?:" + "|".join(re.escape(c) for c in sorted(col.codes or (), key=len, reverse=True)) + ")",
        "date": "[0-9]{8}",
        "birth_date": "(?:[0-9]{8}|[MTSHR][0-9]{6})",
        "timestamp": "[0-9]{17}",
        "my_number": "[0-9]{12}",
        "json": r"\{[^\x1f]*",
    }.get(col.type)
    if pattern is None:  # text, kana
        first = _SAFE_FIRST if interchange else _SAFE
        pattern = f"[{first}][{_SAFE}]{{{lo - 1},{hi - 1}}}"
    return pattern if col.required else f"(?:{pattern})?"


class RowValidator:
    """All column checks of one layout, built once; calling it validates one row of cells.

    The common case costs one regular-expression match per row: a pattern built from the layout that
    accepts a subset of the valid rows (bounded character classes separated by a character none of them
    contains, so matching is linear). Dates and JSON are then checked by their parsers, memoising valid
    dates. Any row the fast path does not accept is checked column by column, which decides the errors.
    """

    __slots__ = ("_checks", "_columns_error", "_errors", "conditions", "fast", "layout", "names", "post", "refusing")

    def __init__(self, layout: Layout, *, interchange: bool, max_field_chars: int) -> None:
        self.layout = layout
        self.names = layout.header
        self._checks = tuple(_column_check(c, interchange, max_field_chars) for c in layout.columns)
        #: Indexes of the columns that refuse a written My Number (:attr:`Column.refuses_my_number`).
        self.refusing = tuple(i for i, c in enumerate(layout.columns) if c.refuses_my_number)
        self.fast = re.compile(re.escape(SEP).join(_fast_pattern(c, interchange, max_field_chars) for c in layout.columns))
        self.post = tuple(
            (i, self._checks[i], set[str]()) for i, c in enumerate(layout.columns) if c.type in _POST_CHECKED
        )
        # Every possible error of every column, built once (messages never depend on the value).
        self._errors = tuple(
            {code: FieldError.of(c.name, code, _hint(c, max_field_chars) if code == "F_WIDTH" else "")
             for code in FIELD_CODES}
            for c in layout.columns
        )
        self._columns_error = (FieldError.of("*", "F_COLUMNS", f"expected {len(self.names)}"),)
        #: (column index, index of the column it depends on, the value that makes it required)
        self.conditions = tuple(
            (i, self.names.index(c.required_when[0]), c.required_when[1])
            for i, c in enumerate(layout.columns) if c.required_when is not None
        )

    def number_free(self, cells: Sequence[str]) -> bool:
        """The fast path's My Number test: no refusing cell could hold one (one search over them all)."""
        return MAY_START.search(SEP.join([cells[i] for i in self.refusing])) is None

    def post_ok(self, cells: Sequence[str], post: Sequence[tuple[int, Check, set[str]]]) -> bool:
        """The parser checks after a fast match (dates, JSON); valid dates are memoised."""
        for i, check, seen in post:
            v = cells[i]
            if v and v not in seen:
                if check(v) is not None:
                    return False
                if len(seen) >= _MEMO_SIZE:
                    seen.clear()
                seen.add(v)
        return True

    def __call__(self, cells: Sequence[str]) -> tuple[dict[str, str], tuple[FieldError, ...]]:
        values = dict(zip(self.names, cells, strict=False))
        if len(cells) != len(self.names):  # cells out of place: withhold any refusing cell holding a number
            for i in self.refusing:
                if i < len(cells) and contains_my_number(cells[i]):
                    values[self.names[i]] = ""
            return values, self._columns_error
        if (self.fast.fullmatch(SEP.join(cells)) is not None and self.post_ok(cells, self.post)
                and not self.missing(cells) and self.number_free(cells)):
            return values, ()
        errors = self.errors(cells)
        return self.withhold(values, errors), errors

    @staticmethod
    def withhold(values: dict[str, str], errors: Sequence[FieldError]) -> dict[str, str]:
        """``values`` without the cells refused for holding a written My Number (replaced by ``""``)."""
        for error in errors:
            if error.code == "F_MY_NUMBER":
                values[error.column] = ""
        return values

    def missing(self, cells: Sequence[str]) -> list[int]:
        """Columns empty in a row where their ``required_when`` condition holds."""
        return [i for i, j, value in self.conditions if not cells[i] and cells[j] == value]

    def errors(self, cells: Sequence[str]) -> tuple[FieldError, ...]:
        """The field errors of a row of the right length, column by column (no fast path)."""
        failed = [(i, code) for i, (check, v) in enumerate(zip(self._checks, cells, strict=True))
                  if (code := check(v)) is not None]
        if self.conditions:
            failed = sorted(failed + [(i, "F_REQUIRED") for i in self.missing(cells)])
        return tuple(self._errors[i][code] for i, code in failed)


def is_interchange(layout: Layout) -> bool:
    """Imports that are not staff-facing: formula-like cells are refused rather than escaped."""
    return layout.direction == "import" and not layout.staff_facing


_CACHE: dict[tuple[int, bool, int], tuple[Layout, RowValidator]] = {}


def compile_layout(
    layout: Layout, *, interchange: bool | None = None, max_field_chars: int = DEFAULT_MAX_FIELD_CHARS
) -> RowValidator:
    """The (cached) :class:`RowValidator` of ``layout``; ``interchange`` defaults by the layout."""
    mode = is_interchange(layout) if interchange is None else interchange
    key = (id(layout), mode, max_field_chars)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is layout:
        return hit[1]
    validator = RowValidator(layout, interchange=mode, max_field_chars=max_field_chars)
    _CACHE[key] = (layout, validator)
    return validator


def validate_row(layout: Layout, cells: Sequence[str]) -> tuple[dict[str, str], tuple[FieldError, ...]]:
    """Validate one row of an import: the values keyed by column name and the field errors (maybe none)."""
    return compile_layout(layout)(cells)
