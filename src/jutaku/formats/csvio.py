"""Strict, streaming CSV readers and writers for the interfaces of ``interfaces.md``.

Reading (security checklist FILE-01, FILE-03, FILE-04, FILE-06):

- bytes are decoded strictly: any invalid byte sequence raises ``FileRejected('R_ENCODING')`` naming
  its line (record). With ``encoding=None`` the file is UTF-8 (a BOM is allowed) when its header line
  decodes as UTF-8, else CP932, and every line must then be in that encoding: a line of the other one
  (a mixed file) is refused by its number, also a UTF-8 line that would decode as CP932 mojibake
  (ADR 0005, ADR 0028);
- a file whose first bytes are another interface's (another layout's header, a ZIP, a manifest) is
  refused saying which (``R_HEADER`` with ``belongs_to``: :mod:`jutaku.formats.sniff`);
- memory stays constant whatever the file size: lines are read with a length cap, fields with a size
  cap, and limits on bytes and rows are enforced while streaming;
- the header must equal the layout's column names exactly (after the BOM); records are RFC 4180 with
  CRLF or LF line ends; a NUL byte or broken quoting rejects the file (``R_CSV``);
- ``Row.line_no`` is the record number as a spreadsheet shows it: the header is 1, the first data row 2.

Because rows are yielded while the file is still being read, a late ``FileRejected`` can follow rows
already yielded: importers call :func:`prescan` first (one streaming pass, nothing applied) or apply
inside a transaction.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Final, Literal, NamedTuple

from jutaku.formats import sniff
from jutaku.formats.errors import FieldError, FileRejected
from jutaku.formats.files import open_regular, private_file, shown_path
from jutaku.formats.layouts import Layout
from jutaku.formats.validate import DEFAULT_MAX_FIELD_CHARS, FORMULA_LEAD, SEP, compile_layout, escape_formula

Encoding = Literal["utf-8", "cp932"]
Source = str | os.PathLike[str] | IO[bytes]

DEFAULT_MAX_BYTES: Final = 4 * 1024**3
DEFAULT_MAX_ROWS: Final = 10_000_000
_CHUNK: Final = 1 << 20
_BOM: Final = "\ufeff"


class Row(NamedTuple):
    """One data row: its record number (header = 1), the cells by column name, the field errors."""

    line_no: int
    values: dict[str, str]
    errors: tuple[FieldError, ...]


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What an importer needs to verify and record a file: SHA-256 of the bytes, size, data rows."""

    sha256: str
    size: int
    rows: int
    encoding: str


def too_large(max_bytes: int, detail: str = "") -> FileRejected:
    return FileRejected("R_SIZE", detail or f"over {max_bytes} bytes",
                        what=f"ファイルが大きすぎます（上限 {max_bytes:,} バイト）")


class _Metered(io.RawIOBase):
    """Counts and hashes every byte read from ``raw`` (after ``head``, bytes already taken from it);
    rejects the file once it exceeds ``max_bytes``. With ``watch_utf8`` (a CP932 file) it notes whether
    any chunk holds what looks like a UTF-8 kana (``suspect``), so lines are examined from then on."""

    def __init__(self, raw: IO[bytes], max_bytes: int, head: bytes = b"", *, watch_utf8: bool = False) -> None:
        super().__init__()
        self._raw = raw
        self._max = max_bytes
        self._head = head
        self.size = 0
        self.hash = hashlib.sha256()
        self._watch = watch_utf8
        self._tail = b""
        self.suspect = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            data, self._head = self._head[: len(buffer)], self._head[len(buffer):]
        else:
            data = self._raw.read(len(buffer))
        n = len(data)
        self.size += n
        if self.size > self._max:
            raise too_large(self._max)
        buffer[:n] = data
        self.hash.update(data)
        if self._watch and not self.suspect:
            self.suspect = bool(_UTF8_KANA.search(data) or _UTF8_KANA.search(self._tail + data[:2]))
            self._tail = data[-2:]
        return n


def _open(source: Source) -> tuple[IO[bytes], bool]:
    if isinstance(source, str | os.PathLike):
        return open_regular(source), True
    return source, False


def _check_size(stream: IO[bytes], max_bytes: int) -> None:
    try:
        size = os.fstat(stream.fileno()).st_size
    except (OSError, AttributeError, io.UnsupportedOperation):
        return  # not a file: the metered reader enforces the limit while reading
    if size > max_bytes:
        raise too_large(max_bytes, f"{size} > {max_bytes} bytes")


def _utf8_prefix(head: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _header_encoding(head: bytes) -> Encoding:
    """UTF-8 when the header line (the first line of ``head``) decodes as UTF-8, else CP932.

    The header holds the layout's Japanese column names, which decide: Japanese text in CP932 practically
    never decodes as UTF-8. Every later line must then be in the same encoding (:func:`_lines`)."""
    line, newline, _ = head.partition(b"\n")
    if newline:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return "cp932"
        return "utf-8"
    return "utf-8" if _utf8_prefix(line) else "cp932"


def detect_encoding(stream: IO[bytes], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Encoding:
    """The encoding a reader chooses for the file at the stream's position (its header line decides);
    the stream is left where it was."""
    start = stream.tell()
    head = stream.read(min(_CHUNK, max_bytes + 1))
    stream.seek(start)
    return _header_encoding(head)


#: Invalid bytes become lone surrogates (as ``surrogateescape``), which no strict decoding yields: the line
#: holding them is then found and named (:func:`_lines`); the handler counts its calls so that lines are
#: searched only once something was replaced.
_INVALID: Final = "jutaku-invalid"
_replaced = [0]


def _mark_invalid(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _replaced[0] += 1
    return "".join(chr(0xDC00 | b) for b in exc.object[exc.start:exc.end]), exc.end


codecs.register_error(_INVALID, _mark_invalid)
_SURROGATE: Final = re.compile("[\udc00-\udcff]")
#: Hiragana and katakana, and their UTF-8 bytes (E3 81–83 xx): a UTF-8 line of Japanese (every name has
#: its 氏名カナ) in a CP932 file. In CP932 those bytes start the kanji 縺, 繧, 繝, which names and
#: addresses do not use: the watch on the bytes (:class:`_Metered`) practically never wakes for CP932 text.
_KANA: Final = re.compile("[\u3041-\u30ff]")
_UTF8_KANA: Final = re.compile(rb"\xe3[\x81-\x83][\x80-\xbf]")
#: Encodings as a sentence names them (a space after an ASCII name, none after a closing bracket).
_NAMES: Final = {"utf-8": "UTF-8 ", "cp932": "CP932（Shift_JIS）"}


class _BadLine(Exception):
    """A line that refuses the file (``code``): ``what`` says what is wrong with it after "N 行目", without
    any of its bytes; the reader adds the number of its record."""

    def __init__(self, code: str, what: str, detail: str, more: str = "") -> None:
        super().__init__(detail)
        self.code = code
        self.what = what
        self.detail = detail
        self.more = more  # a second sentence: what the line seems to be


def _line_problem(line: str, encoding: Encoding) -> _BadLine | None:
    """Why ``line`` (decoded with :data:`_INVALID`) is not a line of an ``encoding`` file, or None."""
    if _SURROGATE.search(line):
        other: Encoding = "cp932" if encoding == "utf-8" else "utf-8"
        try:
            line.encode(encoding, "surrogateescape").decode(other)
            seems = f"この行は {_NAMES[other]}で書かれているようです"
        except (UnicodeError, LookupError):
            seems = "この行に壊れたバイトがあります"
        return _BadLine("R_ENCODING", f"を {_NAMES[encoding]}として読めません", f"not {encoding}", seems)
    if encoding == "cp932":
        try:
            as_utf8 = line.encode("cp932").decode("utf-8")
        except UnicodeError:
            return None
        if _KANA.search(as_utf8):
            return _BadLine("R_ENCODING", "は UTF-8 で書かれています", "a UTF-8 line",
                            "ファイルの他の行と文字コードが異なります")
    return None


def _lines(text: IO[str], limit: int, encoding: Encoding, suspect: Callable[[], bool]) -> Iterator[str]:
    """Physical lines, each at most ``limit`` characters (a longer one rejects the file); no NUL; each in
    the file's encoding (:func:`_line_problem`, looked at only once ``suspect()`` says there may be one)."""
    readline = text.readline
    while line := readline(limit):
        if len(line) == limit and line[-1] not in "\r\n":
            raise _BadLine("R_CSV", f"が長すぎます（{limit:,} 文字を超えています。改行のないファイルか、別の種類のファイルです）",
                           f"line longer than {limit} characters")
        if "\x00" in line:
            raise _BadLine("R_CSV", "に NUL 文字（バイト 0x00）があります（テキストの CSV ではないか、壊れています）", "NUL byte")
        if suspect() and not line.isascii():
            problem = _line_problem(line, encoding)
            if problem is not None:
                raise problem
        yield line


class CsvReader:
    """Iterator of :class:`Row`; a context manager that closes a file it opened itself.

    After the last row, :meth:`file_info` gives the SHA-256 and size of the bytes read.
    """

    def __init__(
        self,
        source: Source,
        layout: Layout,
        *,
        encoding: Encoding | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_rows: int = DEFAULT_MAX_ROWS,
        max_field_chars: int = DEFAULT_MAX_FIELD_CHARS,
        validate: bool = True,
    ) -> None:
        """``validate=False`` checks only the width of each row (errors ``F_COLUMNS``), not its fields."""
        self.layout = layout
        self._stream, self._owned = _open(source)
        self._where = shown_path(source) if self._owned else ""  # type: ignore[arg-type]
        try:
            _check_size(self._stream, max_bytes)
            head = self._stream.read(min(_CHUNK, max_bytes + 1))
            self._head = head[:sniff.SNIFF_BYTES]  # what the file is, from its first bytes
            self._chosen = encoding is not None
            self.encoding: Encoding = encoding if encoding is not None else _header_encoding(head)
            self._meter = _Metered(self._stream, max_bytes, head, watch_utf8=self.encoding == "cp932")
            buffered = io.BufferedReader(self._meter, buffer_size=_CHUNK)
            codec = "utf-8-sig" if self.encoding == "utf-8" else "cp932"
            self._text = io.TextIOWrapper(buffered, encoding=codec, errors=_INVALID, newline="")
            if csv.field_size_limit() < max_field_chars:
                csv.field_size_limit(max_field_chars)
            line_cap = len(layout.columns) * (2 * max_field_chars + 3) + 2
            replaced, meter = _replaced[0], self._meter
            self._records = csv.reader(_lines(self._text, line_cap, self.encoding,
                                              lambda: _replaced[0] != replaced or meter.suspect), strict=True)
        except BaseException:
            self.close()
            raise
        self._validate = compile_layout(layout, max_field_chars=max_field_chars) if validate else None
        self._max_rows = max_rows
        self.line_no = 0
        self._done = False
        self._rows = self._generate()

    def _generate(self) -> Iterator[Row]:
        try:
            found = sniff.identify(self._head)
            self._refuse_another(found, exact_only=True)
            header = next(self._records, None)
            if header is None:
                raise self._empty()
            self.line_no = 1
            if tuple(header) != self.layout.header:
                self._refuse_another(found, exact_only=False)
                raise FileRejected("R_HEADER", f"expected the {len(self.layout.header)} columns of {self.layout.name}",
                                   what=f"1 行目（項目名の行）が「{self.layout.title}」の様式と一致しません："
                                        + sniff.header_difference(self.layout.header, header), line=1)
            yield from self._data_rows()
            self._done = True
        except _BadLine as bad:
            raise self._bad_line(bad, self.line_no + 1) from None
        except csv.Error:
            line = self.line_no + 1
            raise FileRejected("R_CSV", f"record {line}", line=line,
                               what=f"{line} 行目の CSV の形式が不正です（引用符 \" の対応など）") from None
        finally:
            self.close()

    def _empty(self) -> FileRejected:
        where = f": {self._where}" if self._where else ""
        if self._meter.size == 0:
            return FileRejected("R_EMPTY", what=f"ファイルが空です（0 バイト）{where}")
        return FileRejected("R_EMPTY", what=f"ファイルに項目名の行もデータもありません{where}")

    def _refuse_another(self, found: sniff.Identified, *, exact_only: bool) -> None:
        """Refuse a file recognised as another interface's, saying which (before its header is read when
        its first bytes say so exactly; after, when its header is only like another layout's)."""
        if found.kind == "empty":
            return
        other = found.layout if exact_only else found.known
        if other == self.layout.name or (other is None and found.kind not in ("zip", "media", "manifest")):
            return
        raise FileRejected("R_HEADER", f"the file is {other or found.kind}, not {self.layout.name}",
                           what=f"{sniff.describe(found)}（「{self.layout.title}」の取込では読めません）",
                           hint=sniff.advice(found), belongs_to=other, line=1)

    def _bad_line(self, bad: _BadLine, line: int) -> FileRejected:
        if bad.code != "R_ENCODING":
            return FileRejected(bad.code, f"record {line}: {bad.detail}", what=f"{line} 行目{bad.what}", line=line)
        name = _NAMES[self.encoding]
        basis = (f"文字コードの指定は {name}です" if self._chosen
                 else f"このファイルの文字コードは 1 行目（項目名の行）から {name}と判断しました")
        hint = ("文字コードの指定を「自動判定」にするか、ファイルの文字コードに合わせてください。"
                if self._chosen and line == 1 else "")
        return FileRejected("R_ENCODING", f"{self.encoding}, record {line}: {bad.detail}",
                            what=f"{line} 行目{bad.what}（{basis}）。{bad.more}", hint=hint, line=line)

    def _data_rows(self) -> Iterator[Row]:
        # The validator's fast path is inlined here: at hundreds of thousands of rows a second, each
        # Python call per row counts. RowValidator.__call__ is the reference behaviour.
        validator, header, limit = self._validate, self.layout.header, self._max_rows + 1
        width = len(header)
        fast = validator.fast.fullmatch if validator is not None else None
        post = validator.post if validator is not None else ()
        conditional = bool(validator is not None and validator.conditions)
        refusing = bool(validator is not None and validator.refusing)
        # Unvalidated rows (prescan) still say when their width is wrong: the dict below cannot show it.
        wrong_width = (FieldError.of("*", "F_COLUMNS", f"expected {width}"),)
        line_no = 1
        for cells in self._records:
            line_no += 1
            self.line_no = line_no
            if line_no > limit:
                raise FileRejected("R_ROWS", f"over {self._max_rows} rows",
                                   what=f"行数が上限（{self._max_rows:,} 行）を超えています")
            values = dict(zip(header, cells, strict=False))
            if validator is None:
                yield Row(line_no, values, () if len(cells) == width else wrong_width)
            elif (
                len(cells) == width and fast(SEP.join(cells)) is not None  # type: ignore[misc]
                and validator.post_ok(cells, post) and not (conditional and validator.missing(cells))
                and (not refusing or validator.number_free(cells))
            ):
                yield Row(line_no, values, ())
            else:
                yield Row(line_no, *validator(cells))

    @property
    def rows(self) -> int:
        """Data rows read so far."""
        return max(self.line_no - 1, 0)

    def __iter__(self) -> Iterator[Row]:
        return self._rows

    def __next__(self) -> Row:
        return next(self._rows)

    def file_info(self) -> FileInfo:
        if not self._done:
            raise RuntimeError("file_info() is known only after the last row")
        return FileInfo(self._meter.hash.hexdigest(), self._meter.size, self.rows, self.encoding)

    def close(self) -> None:
        if self._owned:
            self._stream.close()

    def __del__(self) -> None:  # a reader dropped before its end still closes the file it opened
        if getattr(self, "_owned", False):
            self._stream.close()

    def __enter__(self) -> CsvReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_csv(
    source: Source,
    layout: Layout,
    *,
    encoding: Encoding | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_field_chars: int = DEFAULT_MAX_FIELD_CHARS,
) -> CsvReader:
    """Stream the rows of ``source`` (a path or a binary stream) validated against ``layout``."""
    return CsvReader(
        source, layout, encoding=encoding, max_bytes=max_bytes, max_rows=max_rows, max_field_chars=max_field_chars
    )


def prescan(
    source: Source,
    layout: Layout,
    encoding: Encoding | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_field_chars: int = DEFAULT_MAX_FIELD_CHARS,
    visit: Callable[[Row], None] | None = None,
) -> FileInfo:
    """Every whole-file check in one streaming pass, before anything is applied.

    Encoding, CSV structure, header, size and row limits; returns SHA-256, size, data rows and the
    encoding. Field errors are row outcomes, not file rejections, so they do not fail the prescan.
    ``visit`` sees every row of the pass *unvalidated* (cells as read), for a caller that needs a
    whole-file view without reading the file again; what it gathers is void if the file is rejected.
    """
    reader = CsvReader(
        source, layout, encoding=encoding, max_bytes=max_bytes, max_rows=max_rows,
        max_field_chars=max_field_chars, validate=False,
    )
    with reader:
        for row in reader:
            if visit is not None:
                visit(row)
        return reader.file_info()


# --- writing ------------------------------------------------------------------------------------

class _Sink:
    """Encodes strictly, hashes and writes what :mod:`csv` hands it (one row per call)."""

    def __init__(self, file: IO[bytes], encoding: Encoding, *, bom: bool) -> None:
        self._file = file
        self._cp932 = encoding == "cp932"
        self.hash = hashlib.sha256()
        self.size = 0
        if bom:
            self._put(_BOM.encode("utf-8"))

    def _put(self, data: bytes) -> None:
        self.hash.update(data)
        self.size += len(data)
        self._file.write(data)

    def write(self, text: str) -> int:
        if self._cp932:
            try:
                data = text.encode("cp932")
            except UnicodeEncodeError:
                raise ValueError("a cell has characters that CP932 cannot encode") from None
        else:
            data = text.encode("utf-8")
        self._put(data)
        return len(text)


def _cells(layout: Layout, row: Mapping[str, str], n: int) -> list[str]:
    if len(row) != len(layout.header) or any(name not in row for name in layout.header):
        raise ValueError(f"row {n}: the keys are not exactly the columns of {layout.name}")
    cells = [row[name] for name in layout.header]
    if not all(isinstance(v, str) for v in cells):
        raise TypeError(f"row {n}: every value must be a str")
    return cells


def _interchange_check(layout: Layout, strict: bool) -> Callable[[list[str], int], list[str]]:
    from jutaku.domain.japanese import is_formula_like
    from jutaku.domain.my_number import is_valid

    validator = compile_layout(layout, interchange=True)
    numbers = [i for i, c in enumerate(layout.columns) if c.type == "my_number"]
    export = layout.direction == "export"

    def check(cells: list[str], n: int) -> list[str]:
        if strict:
            errors = validator(cells)[1]
            if errors:
                raise ValueError(f"row {n}: {errors[0].column} {errors[0].code}")
            bad = [layout.columns[i].name for i in numbers if export and cells[i] and not is_valid(cells[i])]
            if bad:
                raise ValueError(f"row {n}: {bad[0]} is not a valid 個人番号")
        elif any(v and (v[0] in FORMULA_LEAD or is_formula_like(v)) for v in cells):
            raise ValueError(f"row {n}: a cell starts with a formula character")
        return cells

    return check


def _staff_check(layout: Layout) -> Callable[[list[str], int], list[str]]:
    """Staff-facing files: formula cells escaped, and no cell may hold a written My Number (ADR 0020;
    the rejection list once carried one in its 受付番号): the whole file is refused instead."""
    from jutaku.domain.free_text import contains_my_number

    refusing = [(i, c.name) for i, c in enumerate(layout.columns) if c.type != "my_number"]

    def check(cells: list[str], n: int) -> list[str]:
        for i, name in refusing:
            if cells[i] and contains_my_number(cells[i]):
                raise ValueError(f"row {n}: {name} holds a number shaped like a 個人番号 (not written)")
        return [escape_formula(v) for v in cells]

    return check


def write_csv(
    path: str | os.PathLike[str] | IO[bytes],
    layout: Layout,
    rows: Iterable[Mapping[str, str]],
    *,
    encoding: Encoding = "utf-8",
    staff_facing: bool | None = None,
    strict: bool = True,
) -> FileInfo:
    """Write ``rows`` as RFC 4180 CSV with CRLF line ends; SHA-256 and count are computed while writing.

    Staff-facing files (``layout.staff_facing`` unless overridden) escape formula-like cells with ``'``
    and start with a UTF-8 BOM so spreadsheets show Japanese correctly; a cell of theirs holding a written
    My Number refuses the whole file (:class:`ValueError`). Interchange files refuse such
    cells and, when ``strict``, any row that would not pass the import validation (and, for exports,
    any invalid 個人番号) with :class:`ValueError`; ``strict=False`` (test data for the simulator)
    keeps only the formula refusal. A file is written 0600 and appears complete or not at all
    (:func:`jutaku.formats.files.private_file`): on any error nothing is left under ``path``'s name but
    what was there before. ``path`` may also be a binary stream (an encrypting writer, say): it is written
    to and left open, its caller cleans up.
    """
    staff = layout.staff_facing if staff_facing is None else staff_facing
    check = _staff_check(layout) if staff else _interchange_check(layout, strict)
    count = 0
    stream = not isinstance(path, (str, os.PathLike))
    with nullcontext(path) if stream else private_file(path) as file:  # type: ignore[arg-type]
        sink = _Sink(file, encoding, bom=staff and encoding == "utf-8")  # type: ignore[arg-type]
        writer = csv.writer(sink, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL, strict=True)
        writer.writerow(layout.header)
        for count, row in enumerate(rows, 1):
            cells = _cells(layout, row, count)
            writer.writerow(check(cells, count))
    return FileInfo(sink.hash.hexdigest(), sink.size, count, encoding)
