"""Which interface a file is, from its first bytes (issue 14 item 6, ADR 0028): any valid file of a layout
is recognised as that layout, whatever its encoding, BOM and line ends; random bytes are recognised as
nothing; and what the recognition says never holds a byte of the file."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jutaku.domain.free_text import contains_my_number
from jutaku.domain.my_number import from_body
from jutaku.formats import docgen, sniff
from jutaku.formats.allowlist import HEADER as ALLOWLIST_HEADER
from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import KIT, LAYOUTS, PROCEDURES, Layout

CSV_LAYOUTS = [layout for name, layout in LAYOUTS.items() if name != sniff.PORTAL]
#: Text the cells of a valid row may hold: kana, kanji, letters, a comma and a quote (quoting), no digits
#: (no cell may hold a number shaped like a My Number), no formula lead.
TEXT = st.text(alphabet="あいうカキク山田太郎東京都新宿区髙﨑 abcXYZ,\"", min_size=1, max_size=20).filter(
    lambda s: s[0] not in " \"" and s.strip() == s)


def valid_rows(layout: Layout, texts: list[str]) -> list[dict[str, str]]:
    """Rows that pass the layout's own validation: its documented sample, with drawn text in text cells."""
    rows = []
    for text in texts:
        row = docgen.sample_row(layout)
        for col in layout.columns:
            if col.type == "text" and (col.width is None or col.width >= 20):
                row[col.name] = text
        rows.append(row)
    return rows


def file_bytes(layout: Layout, rows: list[dict[str, str]], encoding: str, bom: bool, newline: bytes) -> bytes:
    sink = io.BytesIO()
    write_csv(sink, layout, rows, encoding=encoding)  # type: ignore[arg-type]
    data = sink.getvalue().replace(b"\r\n", newline)
    if bom and not data.startswith(b"\xef\xbb\xbf") and encoding == "utf-8":
        data = b"\xef\xbb\xbf" + data
    return data


@given(layout=st.sampled_from(CSV_LAYOUTS), texts=st.lists(TEXT, max_size=30),
       encoding=st.sampled_from(["utf-8", "cp932"]), bom=st.booleans(), newline=st.sampled_from([b"\r\n", b"\n"]))
def test_any_valid_file_of_a_layout_is_recognised_as_that_layout(layout: Layout, texts: list[str], encoding: str,
                                                                 bom: bool, newline: bytes) -> None:
    data = file_bytes(layout, valid_rows(layout, texts), encoding, bom, newline)
    found = sniff.identify(data)
    assert (found.kind, found.layout) == ("csv", layout.name)


@given(st.lists(st.sampled_from(["00000000000001", "20260401001", "X1"]), min_size=1, max_size=40))
def test_any_valid_portal_download_is_recognised_as_one(names: list[str]) -> None:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, stem in enumerate(dict.fromkeys(names)):
            zf.writestr(f"{stem}{i}.xml", "<申請データ/>".encode())
    assert sniff.identify(sink.getvalue()) == sniff.Identified("zip", sniff.PORTAL)


def test_the_allow_list_is_recognised() -> None:
    packaged = sorted((Path(__file__).resolve().parents[3] / "src" / "jutaku" / "data").glob("allowlist*.csv"))
    assert packaged and all(sniff.identify(p.read_bytes()) == sniff.Identified("csv", sniff.ALLOWLIST) for p in packaged)
    assert sniff.headers()[ALLOWLIST_HEADER] == sniff.ALLOWLIST


def test_every_layout_has_a_header_of_its_own() -> None:
    """Recognition by header is only sound when no two interfaces share one."""
    assert len(sniff.headers()) == len(CSV_LAYOUTS) + 1


@given(st.binary(max_size=2048))
def test_random_bytes_are_recognised_as_nothing(data: bytes) -> None:
    found = sniff.identify(data)
    assert found.known is None
    assert found.kind in {"empty", "csv", "other", "zip"}


@given(st.lists(st.sampled_from(sorted({c.name for x in CSV_LAYOUTS for c in x.columns})), max_size=16))
def test_a_header_is_a_layout_only_when_it_is_that_layouts_header(cells: list[str]) -> None:
    found = sniff.identify((",".join(cells) + "\r\n").encode())
    if found.layout is not None:
        assert tuple(cells) == LAYOUTS[found.layout].header
    if found.like is not None:  # most of its columns shared with that layout's, and with no other as much
        header = set(LAYOUTS[found.like].header)
        assert len(set(cells) & header) / len(set(cells) | header) >= sniff.LIKE_THRESHOLD


def test_special_files_are_named_for_what_they_are() -> None:
    from jutaku.crypto.media import MAGIC

    assert sniff.MEDIA_MAGIC == MAGIC
    assert sniff.identify(b"").kind == sniff.identify(b"\xef\xbb\xbf").kind == "empty"
    assert sniff.identify(MAGIC + b"\x01rest").kind == "media"
    manifest = b'{"interface": "kit", "layout_version": 1, "record_count": 3, "sha256": "ab"}'
    assert sniff.identify(manifest).kind == "manifest"
    assert sniff.identify(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n").known is None
    assert sniff.identify(b"\x07\n") == sniff.Identified("other")


def test_an_edited_header_is_recognised_as_like_its_layout() -> None:
    header = list(KIT.header)
    header[2] = "お名前"  # one column renamed
    found = sniff.identify(",".join(header).encode())
    assert (found.layout, found.like, found.known) == (None, "kit", "kit")
    assert "のようです" in sniff.describe(found)


@pytest.mark.parametrize(("name", "says", "advice"), [
    ("juki-result", "このファイルは「住基ネット 本人確認情報 照会結果」のファイルです", "「住基ネット 本人確認情報 照会結果」として取り込んで"),
    ("linkage-request", "当システムが作成した「統合利用番号取得要求」（送付用のファイル）です", "回答のファイル（「団体内統合利用番号 取得結果」）"),
    ("rejections", "当システムが出力した「差戻リスト」（職員向けの一覧）です", "取り込むファイルを指定して"),
])
def test_what_a_recognised_file_is_and_where_it_goes(name: str, says: str, advice: str) -> None:
    found = sniff.Identified("csv", name)
    assert says in sniff.describe(found) and advice in sniff.advice(found)


def test_the_difference_from_the_expected_header_names_only_the_layouts_columns() -> None:
    assert sniff.header_difference(KIT.header, KIT.header[:-1]) == "項目「受付日」がありません"
    assert sniff.header_difference(KIT.header, (*KIT.header, "余分")) == "様式にない項目が 1 個あります"
    assert sniff.header_difference(KIT.header, tuple(reversed(KIT.header))) == "項目の順序が様式と異なります"
    assert sniff.header_difference(KIT.header, (" 受付番号", *KIT.header[1:])).startswith("項目名に前後の空白")
    assert sniff.header_difference(PROCEDURES.header, ("あ", "い")).startswith("1 行目に項目名がありません")


@given(st.lists(st.one_of(st.sampled_from(KIT.header), st.integers(10**10, 10**11 - 1).map(lambda n: from_body(f"{n:011d}"))),
                min_size=1, max_size=12))
def test_a_first_row_of_data_never_reaches_the_message(cells: list[str]) -> None:
    """A file without its header starts with data, perhaps a My Number: the message names none of it."""
    said = sniff.header_difference(KIT.header, cells) + sniff.describe(sniff.identify(",".join(cells).encode()))
    assert not contains_my_number(said) and not re.search(r"\d{12}", said)
