"""Generate ``docs/formats/``: one Markdown page per interface, from :data:`~jutaku.formats.layouts.LAYOUTS`.

``python -m jutaku.formats.docgen docs/formats`` rewrites the pages; ``tests/unit/formats/
test_docs_in_step.py`` fails when the committed pages differ from what the layouts generate.
The samples are synthetic (the 個人番号 is a made-up number with a valid check digit).
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from jutaku.domain.my_number import from_body
from jutaku.formats.errors import FIELD_CODES, FILE_CODES, FILE_HINTS
from jutaku.formats.layouts import LAYOUTS, Column, Layout
from jutaku.formats.portal import DEFAULT_MAX_ENTRIES, DEFAULT_MAX_ENTRY_BYTES, DEFAULT_MAX_TOTAL_BYTES

_TYPE_NAMES: Final[Mapping[str, str]] = {
    "text": "text (no control characters)",
    "kana": "kana text",
    "digits": "ASCII digits",
    "code": "code",
    "date": "date `YYYYMMDD`",
    "birth_date": "birth date `YYYYMMDD` or 和暦 `GYYMMDD`",
    "timestamp": "timestamp `YYYYMMDDhhmmssSSS` (JST)",
    "my_number": "個人番号 (12 digits)",
    "json": "JSON object",
}
_SAMPLE_TEXT: Final[Mapping[str, str]] = {
    "受付番号": "202604010001",
    "要求番号": "RQ20260401000001",
    "照会番号": "JK20260401000001",
    "削除番号": "DL20260401000001",
    "住宅コード": "SHINJUKU-0001",
    "理由": "個人IDが対象者に存在しません",
    "依頼者": "staff01",
    "承認者": "super01",
    "削除項目": "個人番号",
    "方法": "暗号鍵の破棄",
    "氏名": "都営 太郎",
    "氏名カナ": "トエイ タロウ",
    "住所": "東京都新宿区西新宿二丁目8番1号",
    "手続名": "都営住宅 個人番号届出",
    "本人確認方法": "JPKI",
    "電子証明書シリアル番号": "0A1B2C3D",
    "手続コード": "JT9900000000001",
    "事務コード": "JM99000000000053",
    "特定個人情報名コード": "TM9900000000001",
}
_SAMPLE_TYPED: Final[Mapping[str, str]] = {
    "date": "20260401",
    "birth_date": "19700123",
    "timestamp": "20260401093012123",
    "json": '{"課税年度": "2026"}',
    "kana": "トエイ タロウ",
}

CONVENTIONS: Final = """\
## Conventions

- CSV per RFC 4180, header row of exactly the column names below, CRLF (LF accepted on import).
- Encoding: UTF-8 (BOM allowed) or CP932, decoded strictly: an invalid byte rejects the whole file
  (`R_ENCODING`, naming its line). Without an explicit encoding a file is UTF-8 when its header line
  decodes as UTF-8, else CP932, and every line must be in that encoding: a line in the other one (a mixed
  file) rejects the file by its line number. 外字 (private-use characters) are refused per cell
  (`F_CHARS`). See ADR 0005, ADR 0028.
- A file whose first bytes are another interface's (another layout's header, a ZIP, an encrypted file
  under a plain name, a manifest) is refused (`R_HEADER`) saying which interface it is and where it goes.
- Cells are never trimmed. An empty cell is an absent value. Widths count characters. 個人番号 is
  normalised and checked by the registry (outcome `E01`); 生年月日 accepts what
  `jutaku.domain.wareki.parse_birth_date` accepts.
- Text cells refuse control characters (`F_CHARS`); imports refuse cells starting with
  `= + - @` TAB CR (`F_FORMULA`); staff-facing files escape them with a leading `'`.
- No cell but a 個人番号 column may hold a written My Number: a text, kana, JSON or long-enough digits
  cell holding 12 digits with a valid check digit (ASCII or full-width, with or without spaces or
  hyphens, also inside longer text; not glued to letters like `K202600000049`) is refused (`F_MY_NUMBER`,
  outcome `E00`) and its value withheld from every list; no writer writes one (ADR 0020).
- Every export has a manifest `<file>.manifest.json` (`interface`, `layout_version`, `record_count`,
  `sha256`, `created_at`, `created_by`, `job_id`); an import with a manifest rejects the whole file when
  the count (`R_MANIFEST_COUNT`) or SHA-256 (`R_MANIFEST_HASH`) differs. `<file>.enc` shares the
  manifest of `<file>`, which describes the plaintext.
"""


PORTAL_NOTES: Final = f"""\
## Archive rules

- One `<受付番号>.xml` per application (UTF-8 XML, root `申請データ`); other entries are attachments,
  checked for limits only. The entry name must equal the `受付番号` element (`F_ENTRY_NAME`); a repeated
  element or one with child elements is `F_ELEMENT`. Element text is stripped of XML white space.
- The whole archive is rejected (`R_ZIP`) for unsafe names (absolute, `..`, `\\`, drive letters),
  symlinks, encryption, nested archives, ZIP64 (in the end records or in any entry's central or local
  header: a ZIP64 extra field or a size of `0xFFFFFFFF`), more than {DEFAULT_MAX_ENTRIES:,} entries, more than
  {DEFAULT_MAX_ENTRY_BYTES >> 20} MiB decompressed in one entry or {DEFAULT_MAX_TOTAL_BYTES >> 30} GiB in all (counted while reading, never taken
  from the headers); and (`R_XML`) for any DTD, entity, external reference or malformed XML. A larger
  year is delivered in several downloads. A path that is not a regular file is `R_NOT_FILE`.
"""


def sample_value(col: Column) -> str:
    """A valid synthetic value for ``col``."""
    if col.type == "my_number":
        return from_body("12345678901")
    if col.type == "code":
        return next(iter(col.codes or {"": ""}))
    if col.type == "digits":
        width = col.width if col.width is not None else 1
        return ("1" + "0" * (width - 2) + "1")[:width] if width > 1 else "1"
    value = _SAMPLE_TEXT.get(col.name) or _SAMPLE_TYPED.get(col.type) or "サンプル"
    return value[: col.width] if col.width is not None else value


def sample_row(layout: Layout) -> dict[str, str]:
    return {col.name: sample_value(col) for col in layout.columns}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _required(col: Column) -> str:
    if col.required_when is not None:
        return f"when {col.required_when[0]} = `{col.required_when[1]}`"
    return "yes" if col.required else "no"


def _columns_table(layout: Layout) -> list[str]:
    lines = ["| # | column | type | required | width | codes | notes |", "|---|---|---|---|---|---|---|"]
    for n, col in enumerate(layout.columns, 1):
        width = "" if col.width is None else f"{col.width}{' (exact)' if col.exact else ' max'}"
        codes = ", ".join(f"`{k}` {v}" for k, v in (col.codes or {}).items())
        path = f"`{layout.extra[col.name]}`" if col.name in layout.extra else ""
        notes = " ".join(x for x in (col.description, f"element {path}" if path else "") if x)
        lines.append(
            f"| {n} | {col.name} | {_TYPE_NAMES[col.type]} | {_required(col)} | {width} "
            f"| {_cell(codes)} | {_cell(notes)} |"
        )
    return lines


def _csv_sample(layout: Layout) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(layout.header)
    writer.writerow(sample_row(layout).values())
    return out.getvalue()


def _xml_sample(layout: Layout) -> str:
    root = Element(layout.extra["root"])
    row = sample_row(layout)
    row["受付番号"] = "202604010001"
    for col in layout.columns:
        parent = root
        *parents, leaf = layout.extra[col.name].split("/")
        for name in parents:
            found = parent.find(name)
            parent = found if found is not None else SubElement(parent, name)
        SubElement(parent, leaf).text = row[col.name]
    indent(root)
    return tostring(root, encoding="unicode") + "\n"


def render_layout(layout: Layout) -> str:
    direction = "import (into Jutaku)" if layout.direction == "import" else "export (from Jutaku)"
    facts = [
        f"- Interface name: `{layout.name}`; layout version {layout.version}; direction: {direction}.",
        f"- Contains a 個人番号: {'yes' if layout.contains_my_number else 'no'}.",
        f"- Staff-facing (formula cells escaped): {'yes' if layout.staff_facing else 'no'}.",
        "- Columns that may not hold a written 個人番号 (`F_MY_NUMBER`): "
        + (", ".join(c.name for c in layout.columns if c.refuses_my_number) or "none") + ".",
    ]
    if layout.description:
        facts.append(f"- {layout.description}")
    parts = [f"# {layout.name} — {layout.title}", "", "<!-- generated by jutaku.formats.docgen -->", "",
             *facts, "", "## Columns", "", *_columns_table(layout), ""]
    if layout.name == "portal":
        parts += ["## Sample (synthetic), entry `202604010001.xml`", "", "```xml", _xml_sample(layout).rstrip(),
                  "```", "", PORTAL_NOTES]
    else:
        parts += ["## Sample (synthetic)", "", "```csv", _csv_sample(layout).rstrip(), "```", ""]
    parts += [CONVENTIONS]
    return "\n".join(parts)


def _codes_table(title: str, codes: Mapping[str, tuple[str, str]],
                 hints: Mapping[str, str] | None = None) -> list[str]:
    if hints is None:
        rows = [f"| `{code}` | {ja} | {en} |" for code, (ja, en) in codes.items()]
        return [f"## {title}", "", "| code | 日本語 | English |", "|---|---|---|", *rows, ""]
    rows = [f"| `{code}` | {ja} | {hints.get(code, '')} | {en} |" for code, (ja, en) in codes.items()]
    return [f"## {title}", "", "| code | 日本語 | 対処 | English |", "|---|---|---|---|", *rows, ""]


def render_index(layouts: Sequence[Layout]) -> str:
    lines = ["# File formats", "", "<!-- generated by jutaku.formats.docgen -->", "",
             "Generated from `src/jutaku/formats/layouts.py`; do not edit by hand "
             "(`python -m jutaku.formats.docgen docs/formats`).", "",
             "| interface | title | direction | columns |", "|---|---|---|---|"]
    lines += [f"| [{x.name}]({x.name}.md) | {x.title} | {x.direction} | {len(x.columns)} |" for x in layouts]
    lines += ["", *_codes_table("File rejections (the whole file)", FILE_CODES, FILE_HINTS),
              *_codes_table("Field errors (one cell; registration outcome `E00`)", FIELD_CODES)]
    return "\n".join([*lines, CONVENTIONS])


def render_all() -> dict[str, str]:
    """File name -> Markdown text for every page of ``docs/formats``."""
    pages = {f"{layout.name}.md": render_layout(layout) for layout in LAYOUTS.values()}
    pages["README.md"] = render_index(list(LAYOUTS.values()))
    return pages


def write_docs(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_all().items():
        path = directory / name
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.stderr.write("usage: python -m jutaku.formats.docgen DIRECTORY\n")
        return 2
    for path in write_docs(Path(args[0])):
        sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
