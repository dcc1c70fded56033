"""A hostile corpus: the synthetic world's files with valid My Numbers planted in every free-text and
identifier field, and the same numbers typed into every command option that takes text (issue 13 items
1–3, ADR 0020). Synthetic data only; every number is drawn from a seeded generator.

The planted numbers are not any person's: each is a fresh valid number, so a hit in a scan is a leak
of a planted value and nothing else. Each is written in one of the forms a person or a program writes
a My Number (:data:`FORMS`), in turn.
"""

from __future__ import annotations

import csv
import random
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from jutaku.domain import leakscan, my_number

FULL = str.maketrans("0123456789", "０１２３４５６７８９")


def _fw(n: str) -> str:
    return n.translate(FULL)


#: How a My Number gets written: plain, 4-4-4 with hyphens or spaces, full-width, full-width 4-4-4.
FORMS: tuple[Callable[[str], str], ...] = (
    lambda n: n,
    lambda n: f"{n[:4]}-{n[4:8]}-{n[8:]}",
    lambda n: _fw(n),
    lambda n: f"{n[:4]} {n[4:8]} {n[8:]}",
    lambda n: f"{_fw(n)[:4]}\u3000{_fw(n)[4:8]}\u3000{_fw(n)[8:]}",
    lambda n: f"{_fw(n)[:4]}－{_fw(n)[4:8]}－{_fw(n)[8:]}",
)


@dataclass
class Planted:
    """The numbers planted so far, with every written form used (to search for them afterwards)."""

    rng: random.Random
    numbers: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)

    def number(self, where: str, *, form: int | None = None, plain: bool = False) -> str:
        """A fresh valid number for ``where``, written in the next form (``plain``: 12 ASCII digits)."""
        number = my_number.from_body(f"{self.rng.randrange(10**11):011d}")
        chosen = 0 if plain else (len(self.numbers) if form is None else form) % len(FORMS)
        text = FORMS[chosen](number)
        self.numbers.append(number)
        self.written.append(text)
        self.where.append(where)
        return text

    def found_in(self, data: bytes) -> list[str]:
        """The places whose planted number is in ``data``, in any searched form or as it was written."""
        seen = leakscan.contains_any(data, self.numbers)
        return [where for number, text, where in zip(self.numbers, self.written, self.where, strict=True)
                if number in seen or any(text.encode(codec, "ignore") in data for codec in ("utf-8", "cp932"))]


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, header, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    manifest = path.with_name(path.name + ".manifest.json")
    manifest.unlink(missing_ok=True)  # the file was changed after its manifest was written


def plant_csv(path: Path, planted: Planted, edits: list[tuple[int, str, str]]) -> list[int]:
    """Edit ``path`` in place: ``(row index, column, how)``, how ``replace`` (the number alone, plain
    12 digits: an identifier) or ``append`` (after the text, in the next form). Returns the data line
    numbers (2 = first data row) of the rows edited."""
    header, rows = read_rows(path)
    lines = []
    for index, column, how in edits:
        row = rows[index]
        where = f"{path.name}:{index + 2}:{column}"
        if how == "replace":
            row[column] = planted.number(where, plain=True)
        else:
            row[column] = f"{row[column]} {planted.number(where)}"
        lines.append(index + 2)
    write_rows(path, header, rows)
    return lines


def plant_portal_receipt(path: Path, planted: Planted, ordinal: int) -> str:
    """Give the ``ordinal``-th application of the portal ZIP a 受付番号 that is a valid number (its entry
    renamed to match, so that only the 受付番号 is wrong). Returns the new 受付番号."""
    receipt = planted.number(f"{path.name}:{ordinal}:受付番号", plain=True)
    with zipfile.ZipFile(path) as zf:
        entries = [(info, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i, (info, data) in enumerate(entries):
            if i == ordinal:
                text = re.sub("<受付番号>[^<]*</受付番号>", f"<受付番号>{receipt}</受付番号>", data.decode("utf-8"))
                zf.writestr(f"{receipt}.xml", text.encode("utf-8"))
            else:
                zf.writestr(info, data)
    return receipt


def plant_portal_text(path: Path, planted: Planted, ordinal: int, element: str) -> None:
    """Append a number to the text of ``element`` (住所, 手続名 …) of the ``ordinal``-th application."""
    with zipfile.ZipFile(path) as zf:
        entries = [(info, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i, (info, data) in enumerate(entries):
            if i == ordinal:
                number = planted.number(f"{path.name}:{ordinal}:{element}")
                data = re.sub(f"</{element}>", f" {number}</{element}>", data.decode("utf-8"), count=1).encode("utf-8")
            zf.writestr(info, data)


def home_files(home: Path) -> Iterator[Path]:
    """Every file a home holds that a scan must cover: outputs, logs and incident files, anchors, ledgers,
    job files. Not the key files, the encrypted store's own files (``*.enc``: encrypted, their plaintext is
    checked by the tests that decrypt them) nor the SQLite database (dumped and scanned separately)."""
    for path in sorted(home.rglob("*")):
        if (path.is_file() and "keys" not in path.relative_to(home).parts and not path.name.endswith(".enc")
                and not path.name.startswith("jutaku.sqlite3")):
            yield path
