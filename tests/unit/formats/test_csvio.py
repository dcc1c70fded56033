"""Strict streaming CSV: encodings, structure, limits and the writer (interfaces.md; FILE-01/03/04/05)."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jutaku.formats.csvio import FileInfo, detect_encoding, escape_formula, prescan, read_csv, write_csv
from jutaku.formats.errors import FileRejected
from jutaku.formats.layouts import DELETION_TARGETS, JUKI_REQUEST, KIT, REJECTIONS, Layout
from tests.unit.formats.conftest import DATA, csv_text, kit_bytes, make_kit_row


def rejected(code: str, source: object, layout: Layout = KIT, **kwargs: object) -> FileRejected:
    with pytest.raises(FileRejected) as info:
        list(read_csv(source, layout, **kwargs))
    assert info.value.code == code, str(info.value)
    return info.value


# --- encodings ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "encoding"),
    [("kit_utf8.csv", "utf-8"), ("kit_utf8_bom_lf.csv", "utf-8"), ("kit_cp932.csv", "cp932")],
)
def test_fixture_files_read_the_same_in_every_encoding(name: str, encoding: str) -> None:
    reader = read_csv(DATA / name, KIT)
    rows = list(reader)
    assert reader.encoding == encoding
    assert [r.line_no for r in rows] == [2, 3, 4]
    assert all(r.errors == () for r in rows)
    assert rows[1].values["氏名"] == "髙橋 ①子"
    assert rows[2].values["氏名"] == "斎藤, 次郎"
    assert list(rows[0].values) == list(KIT.header)
    assert reader.file_info().rows == 3


def test_explicit_encoding_is_used_without_detection() -> None:
    rows = list(read_csv(DATA / "kit_cp932.csv", KIT, encoding="cp932"))
    assert rows[1].values["氏名"] == "髙橋 ①子"


def test_cp932_read_as_utf8_is_rejected() -> None:
    rejected("R_ENCODING", DATA / "kit_cp932.csv", encoding="utf-8")


def test_broken_cp932_lead_byte_is_rejected() -> None:
    rejected("R_ENCODING", DATA / "kit_cp932_broken_lead.csv")
    rejected("R_ENCODING", DATA / "kit_cp932_broken_lead.csv", encoding="cp932")


def test_truncated_multibyte_at_end_of_file_is_rejected(write_bytes) -> None:  # type: ignore[no-untyped-def]
    data = kit_bytes(2, encoding="cp932")
    rejected("R_ENCODING", write_bytes(data + "髙".encode("cp932")[:1]))
    utf8 = kit_bytes(2)
    assert detect_encoding(io.BytesIO(utf8 + "都".encode()[:2])) == "utf-8"  # the header line decides (ADR 0028)
    assert rejected("R_ENCODING", write_bytes(utf8 + "都".encode()[:2])).line == 4


def test_invalid_utf8_falls_back_to_cp932_only_when_it_decodes(write_bytes) -> None:  # type: ignore[no-untyped-def]
    # Valid CP932 that is not UTF-8: accepted as CP932.
    with read_csv(write_bytes(kit_bytes(1, encoding="cp932")), KIT) as reader:
        assert reader.encoding == "cp932"
    # Neither UTF-8 nor CP932 (an overlong UTF-8 sequence and a CP932 lead byte with a bad trail).
    rejected("R_ENCODING", write_bytes(kit_bytes(1) + b"\xc0\x80\x81\x20\r\n"))


def test_private_use_characters_are_refused_per_cell(write_bytes) -> None:  # type: ignore[no-untyped-def]
    gaiji = "\ue000"  # CP932 user-defined area F040
    path = write_bytes(csv_text(KIT, [list(make_kit_row(1, 氏名=f"都営{gaiji}").values())]).encode("cp932"))
    [row] = read_csv(path, KIT)
    assert [(e.column, e.code) for e in row.errors] == [("氏名", "F_CHARS")]


def test_wave_dash_in_cp932_is_the_fullwidth_tilde() -> None:
    """Policy (ADR 0005): CP932 0x8160 decodes to U+FF5E; U+301C is written as U+FF5E in CP932."""
    assert b"\x81\x60".decode("cp932") == "\uff5e"


# --- structure ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "header",
    [
        "受付番号,個人ID,氏名,氏名カナ,生年月日,性別,個人番号,本人確認書類",
        "受付番号,個人ID,氏名,氏名カナ,生年月日,性別,個人番号,本人確認書類,受付日,余分",
        "個人ID,受付番号,氏名,氏名カナ,生年月日,性別,個人番号,本人確認書類,受付日",
        "受付番号 ,個人ID,氏名,氏名カナ,生年月日,性別,個人番号,本人確認書類,受付日",
        "受付番号,個人id,氏名,氏名カナ,生年月日,性別,個人番号,本人確認書類,受付日",
        "\ufeff受付番号,個人ID,氏名,氏名カナ,生年月日,性別,個人番号,本人確認書類,受付日",
    ],
)
def test_header_must_be_exactly_the_layout(write_bytes, header: str) -> None:  # type: ignore[no-untyped-def]
    body = kit_bytes(1).split(b"\r\n", 1)[1]
    data = ("\ufeff" + header + "\r\n").encode() + body if header.startswith("\ufeff") else (header + "\r\n").encode() + body
    rejected("R_HEADER", write_bytes(data))


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf"])
def test_empty_file_is_rejected(write_bytes, data: bytes) -> None:  # type: ignore[no-untyped-def]
    rejected("R_EMPTY", write_bytes(data))


def test_header_only_file_has_no_rows(write_bytes) -> None:  # type: ignore[no-untyped-def]
    reader = read_csv(write_bytes(csv_text(KIT, []).encode()), KIT)
    assert list(reader) == []
    assert reader.file_info().rows == 0


@pytest.mark.parametrize(
    "tail",
    [b'K1,"unterminated\r\n', b"K1,\x00,x\r\n", b'K1,"a"b,c\r\n'],
)
def test_broken_csv_structure_is_rejected(write_bytes, tail: bytes) -> None:  # type: ignore[no-untyped-def]
    rejected("R_CSV", write_bytes(kit_bytes(1) + tail))


def test_wrong_cell_count_and_blank_lines_are_row_errors(write_bytes) -> None:  # type: ignore[no-untyped-def]
    rows = list(read_csv(write_bytes(kit_bytes(1) + b"K2,1000000002\r\n\r\n"), KIT))
    assert [r.errors[0].code for r in rows[1:]] == ["F_COLUMNS", "F_COLUMNS"]


def test_the_unvalidated_pass_still_flags_a_wrong_width(write_bytes) -> None:  # type: ignore[no-untyped-def]
    """Prescan rows are not validated, but a short or long row must not pass as a well-formed one."""
    from jutaku.formats.csvio import CsvReader

    data = kit_bytes(1) + b"K2,1000000002\r\n" + kit_bytes(1).split(b"\r\n", 1)[1].rstrip(b"\r\n") + b",extra\r\n"
    with CsvReader(write_bytes(data), KIT, validate=False) as reader:
        rows = list(reader)
    assert [[e.code for e in r.errors] for r in rows] == [[], ["F_COLUMNS"], ["F_COLUMNS"]]


def test_quoted_newlines_are_one_record(write_bytes) -> None:  # type: ignore[no-untyped-def]
    cells = list(make_kit_row(1).values())
    cells[2] = '"都営\r\n太郎"'
    [row] = read_csv(write_bytes(csv_text(KIT, [cells]).encode()), KIT)
    assert row.values["氏名"] == "都営\r\n太郎"
    assert [e.code for e in row.errors] == ["F_CHARS"]


def test_reader_over_a_binary_stream_does_not_close_it() -> None:
    stream = io.BytesIO(kit_bytes(2))
    assert len(list(read_csv(stream, KIT))) == 2
    assert not stream.closed


def test_file_info_needs_the_whole_file() -> None:
    reader = read_csv(io.BytesIO(kit_bytes(2)), KIT)
    next(reader)
    with pytest.raises(RuntimeError):
        reader.file_info()


# --- limits ---------------------------------------------------------------------------------------

def test_size_limit_is_checked_before_reading(write_bytes) -> None:  # type: ignore[no-untyped-def]
    path = write_bytes(kit_bytes(5))
    rejected("R_SIZE", path, max_bytes=os.path.getsize(path) - 1)
    rejected("R_SIZE", io.BytesIO(kit_bytes(5)), max_bytes=100, encoding="utf-8")
    rejected("R_SIZE", io.BytesIO(kit_bytes(5)), max_bytes=100)
    assert len(list(read_csv(path, KIT, max_bytes=os.path.getsize(path)))) == 5


def test_row_limit(write_bytes) -> None:  # type: ignore[no-untyped-def]
    path = write_bytes(kit_bytes(5))
    rejected("R_ROWS", path, max_rows=4)
    assert len(list(read_csv(path, KIT, max_rows=5))) == 5


def test_a_long_line_is_rejected_without_reading_it_all(write_bytes) -> None:  # type: ignore[no-untyped-def]
    rejected("R_CSV", write_bytes(kit_bytes(1) + b"A" * 5_000_000), max_field_chars=1000)
    rejected("R_CSV", write_bytes(kit_bytes(1) + b'"' + b"A" * 2_000_000 + b'"\r\n'), max_field_chars=1000)


def _junk_file(path: Path, size: int, byte_source: bytes) -> Path:
    with open(path, "wb") as file:
        for _ in range(size // len(byte_source)):
            file.write(byte_source)
    return path


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["random", "ascii-no-newline", "valid-utf8-no-newline"])
def test_100_mb_of_junk_is_rejected_fast_in_bounded_memory(tmp_path: Path, kind: str) -> None:
    """FILE-01: rejected without reading 100 MB into memory (tracemalloc peak < 50 MB)."""
    block = {"random": os.urandom(1 << 20), "ascii-no-newline": b"A" * (1 << 20),
             "valid-utf8-no-newline": "都".encode() * ((1 << 20) // 3)}[kind]
    path = _junk_file(tmp_path / "junk.csv", 100 * (1 << 20), block)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(FileRejected) as info:
            prescan(path, KIT)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.code in {"R_ENCODING", "R_CSV", "R_HEADER"}
    assert peak < 50 * 1024 * 1024
    assert time.perf_counter() - start < 30


# --- writing --------------------------------------------------------------------------------------

def test_write_then_read_round_trip_with_info(tmp_path: Path) -> None:
    rows = [make_kit_row(i) for i in range(1, 4)]
    info = write_csv(tmp_path / "kit.csv", KIT, rows)
    assert info.rows == 3
    data = (tmp_path / "kit.csv").read_bytes()
    assert data.count(b"\r\n") == 4 and not data.startswith(b"\xef\xbb\xbf")
    assert prescan(tmp_path / "kit.csv", KIT) == info
    assert [r.values for r in read_csv(tmp_path / "kit.csv", KIT)] == rows


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://example.invalid\")", "+1", "-1", "@A1", "\tx", "\rx", "\x00x"])
def test_staff_facing_files_escape_formula_cells(tmp_path: Path, value: str) -> None:
    row = {"行番号": "2", "受付番号": value, "個人ID": "", "結果コード": "E00", "理由": value}
    write_csv(tmp_path / "rej.csv", REJECTIONS, [row])
    data = (tmp_path / "rej.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    [_, back] = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    assert back[1] == back[4] == "'" + value
    assert escape_formula("都営") == "都営"


def test_interchange_files_refuse_formula_cells(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="F_FORMULA"):
        write_csv(tmp_path / "kit.csv", KIT, [make_kit_row(1, 氏名="=1+1")])
    assert not (tmp_path / "kit.csv").exists()
    with pytest.raises(ValueError, match="formula"):
        write_csv(tmp_path / "kit.csv", KIT, [make_kit_row(1, 氏名="@x")], strict=False)


def test_strict_false_writes_malformed_rows_for_test_data(tmp_path: Path) -> None:
    write_csv(tmp_path / "kit.csv", KIT, [make_kit_row(1, 性別="x")], strict=False)
    [row] = read_csv(tmp_path / "kit.csv", KIT)
    assert [e.code for e in row.errors] == ["F_CODE"]


def test_exports_refuse_an_invalid_my_number_without_echoing_it(tmp_path: Path) -> None:
    row = {"照会番号": "JK1", "検索区分": "1", "個人番号": "123456789019", "氏名": "都営 太郎",
           "氏名カナ": "トエイ タロウ", "生年月日": "19700123", "性別": "1", "住所": "東京都"}
    with pytest.raises(ValueError) as info:
        write_csv(tmp_path / "j.csv", JUKI_REQUEST, [row])
    assert "123456789019" not in str(info.value)
    write_csv(tmp_path / "j.csv", JUKI_REQUEST, [row | {"個人番号": "123456789018"}])


@pytest.mark.parametrize("row", [{"個人ID": "1000000001"}, {"個人ID": "1000000001", "削除理由": "1", "x": ""}])
def test_rows_must_have_exactly_the_columns(tmp_path: Path, row: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="keys"):
        write_csv(tmp_path / "d.csv", DELETION_TARGETS, [row])


def test_values_must_be_strings(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        write_csv(tmp_path / "d.csv", DELETION_TARGETS, [{"個人ID": 1000000001, "削除理由": "1"}])


def test_cp932_writer_maps_jis_twins_and_refuses_the_unencodable(tmp_path: Path) -> None:
    write_csv(tmp_path / "r.csv", REJECTIONS, [{"行番号": "2", "受付番号": "", "個人ID": "", "結果コード": "E00",
                                               "理由": "A〜B−C"}], encoding="cp932")
    [row] = read_csv(tmp_path / "r.csv", REJECTIONS)
    assert row.values["理由"] == "A～B－C"
    with pytest.raises(ValueError, match="CP932"):
        write_csv(tmp_path / "r.csv", REJECTIONS, [{"行番号": "2", "受付番号": "", "個人ID": "", "結果コード": "E00",
                                                   "理由": "𠮷"}], encoding="cp932")


CP932_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")).filter(
        lambda ch: _cp932_round_trips(ch)), min_size=1, max_size=20
).filter(lambda s: s[0] not in "=+-@")
UTF8_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")), min_size=1, max_size=20
).filter(lambda s: s[0] not in "=+-@" and s != "\ufeff")


def _cp932_round_trips(ch: str) -> bool:
    try:
        return ch.encode("cp932").decode("cp932") == ch
    except UnicodeError:
        return False


def _kit_rows(text: st.SearchStrategy[str]) -> st.SearchStrategy[list[dict[str, str]]]:
    row = st.builds(
        lambda n, name, kana, sex: make_kit_row(n, 氏名=name[:60], 氏名カナ=kana[:120], 性別=sex),
        st.integers(1, 10**6), text, text, st.sampled_from("0129"),
    )
    return st.lists(row, max_size=8)


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data(), encoding=st.sampled_from(["utf-8", "cp932"]))
def test_write_read_round_trip(tmp_path: Path, data: st.DataObject, encoding: str) -> None:
    rows = data.draw(_kit_rows(CP932_TEXT if encoding == "cp932" else UTF8_TEXT))
    path = tmp_path / f"rt-{encoding}.csv"
    info = write_csv(path, KIT, rows, encoding=encoding)
    reader = read_csv(path, KIT, encoding=encoding)
    assert [r.values for r in reader] == rows
    assert reader.file_info() == FileInfo(info.sha256, info.size, len(rows), encoding)


class _OneWay(io.RawIOBase):
    """A stream that cannot seek, like a decrypting media reader."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._data.read(min(len(buffer), 7000))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_unseekable_streams_are_judged_on_their_first_mib(encoding: str) -> None:
    data = kit_bytes(3000, encoding=encoding)
    stream = io.BufferedReader(_OneWay(data))
    info = prescan(stream, KIT)
    assert info == FileInfo(hashlib.sha256(data).hexdigest(), len(data), 3000, encoding)
    reader = read_csv(io.BufferedReader(_OneWay(data)), KIT)
    assert sum(1 for _ in reader) == 3000 and reader.encoding == encoding


def test_unseekable_stream_with_a_late_bad_byte_is_still_rejected() -> None:
    data = kit_bytes(20_000) + b"\xff\r\n"
    assert len(data) > 1 << 20
    rejected("R_ENCODING", io.BufferedReader(_OneWay(data)))


def test_the_reader_applies_conditional_requirements_on_its_fast_path() -> None:
    """住宅コード is required for residents only (issue 12 item 10), also on the reader's inlined fast path."""
    from jutaku.formats.layouts import TARGETS

    def line(kubun: str, code: str) -> str:
        return f"1000000001,{kubun},12,01,1,{code},,都営 太郎,トエイ タロウ,19700123,1,,東京都,1,"

    text = "\n".join([",".join(TARGETS.header), line("1", ""), line("2", ""), line("1", "H1")]) + "\n"
    with read_csv(io.BytesIO(text.encode("utf-8")), TARGETS) as reader:
        errors = [[(e.column, e.code) for e in row.errors] for row in reader]
    assert errors == [[("住宅コード", "F_REQUIRED")], [], []]


# --- what a refusal says (issue 14 item 6, ADR 0028) ------------------------------------------------

def _lines_of(n: int, encoding: str = "utf-8") -> list[bytes]:
    return kit_bytes(n, encoding=encoding).split(b"\r\n")[:-1]


def test_a_cp932_line_in_a_utf8_file_is_named_by_its_line(write_bytes) -> None:  # type: ignore[no-untyped-def]
    lines = _lines_of(60)
    lines[40] = lines[40].decode().encode("cp932")  # record 41
    refusal = rejected("R_ENCODING", write_bytes(b"\r\n".join(lines) + b"\r\n"))
    assert refusal.line == 41
    assert str(refusal).startswith("[R_ENCODING] 41 行目を UTF-8 として読めません（このファイルの文字コードは 1 行目")
    assert "この行は CP932（Shift_JIS）で書かれているようです" in str(refusal)


def test_a_utf8_line_in_a_cp932_file_is_named_even_when_it_would_decode(write_bytes) -> None:  # type: ignore[no-untyped-def]
    """UTF-8 kana decodes as CP932 without an error (mojibake such as 繝､繝槭す繧ｿ): still refused, by line."""
    row = ",".join(make_kit_row(7, 氏名="ヤマシタ アイ", 氏名カナ="ヤマシタ アイ").values()).encode()
    row.decode("cp932")  # the premise: no decoding error would ever flag this line
    lines = _lines_of(30, "cp932")
    lines[12] = row  # record 13
    refusal = rejected("R_ENCODING", write_bytes(b"\r\n".join(lines) + b"\r\n"))
    assert refusal.line == 13 and "13 行目は UTF-8 で書かれています" in str(refusal)
    assert "1 行目（項目名の行）から CP932（Shift_JIS）と判断しました" in str(refusal)


def test_the_line_named_is_the_record_a_spreadsheet_shows(write_bytes) -> None:  # type: ignore[no-untyped-def]
    """A quoted cell over two lines is one record: the number is that of Row.line_no (header = 1)."""
    lines = _lines_of(5)
    lines[2] = lines[2].replace(b"\xe9\x83\xbd\xe5\x96\xb6 \xe5\xa4\xaa\xe9\x83\x8e", '"都営\r\n太郎"'.encode())
    lines[4] = lines[4].decode().encode("cp932")  # physical line 6, record 5
    refusal = rejected("R_ENCODING", write_bytes(b"\r\n".join(lines) + b"\r\n"))
    assert refusal.line == 5


def test_an_encoding_given_that_the_header_is_not_in_says_to_let_it_be_detected() -> None:
    refusal = rejected("R_ENCODING", DATA / "kit_cp932.csv", encoding="utf-8")
    assert refusal.line == 1 and "文字コードの指定は UTF-8 です" in str(refusal)
    assert "CP932（Shift_JIS）で書かれているようです" in str(refusal) and "「自動判定」" in str(refusal)


def test_a_cp932_file_with_second_level_kanji_and_half_width_kana_reads(write_bytes) -> None:  # type: ignore[no-untyped-def]
    """The UTF-8 watch on CP932 files never refuses CP932 text: 第二水準 kanji such as 繧 start like UTF-8
    kana (E3 82 ..), half-width kana look like UTF-8 continuation bytes or 2-byte sequences."""
    import re

    names = ["纐纈 田中", "ﾃｨ 瀧澤", "髙﨑 ①子", "繧田 ﾄｴｲ", "ﾄｴｲ ﾀﾛｳ", "縺繝"]
    rows = [list(make_kit_row(i, 氏名=name).values()) for i, name in enumerate(names, 1)]
    data = csv_text(KIT, rows).encode("cp932")
    assert re.search(rb"\xe3[\x81-\x83][\x80-\xbf]", data)  # the premise: the watch is woken
    with read_csv(write_bytes(data), KIT) as reader:
        assert [r.values["氏名"] for r in reader] == names and reader.encoding == "cp932"


def test_a_file_of_another_layout_says_which_and_where_it_goes(write_bytes) -> None:  # type: ignore[no-untyped-def]
    from jutaku.formats.layouts import INQUIRY_RESULT_LAYOUT, JUKI_RESULT_LAYOUT, PROCEDURES

    juki = write_bytes(csv_text(JUKI_RESULT_LAYOUT, []).encode("cp932"))
    refusal = rejected("R_HEADER", juki, INQUIRY_RESULT_LAYOUT)
    assert refusal.belongs_to == "juki-result"
    assert str(refusal).startswith("[R_HEADER] このファイルは「住基ネット 本人確認情報 照会結果」のファイルです"
                                   "（「情報照会結果」の取込では読めません）。「住基ネット 本人確認情報 照会結果」として取り込んでください。")
    procedures = write_bytes(csv_text(PROCEDURES, [["T1", "JT99000000530001", "2026", "20260401", "1000000001",
                                                     "1000000001", "1", "0"]]).encode())
    assert rejected("R_HEADER", procedures).belongs_to == "procedures"
    zipped = write_bytes(b"PK\x03\x04" + bytes(22) + b"\x0c\x00\x00\x00" + b"00000001.xml")
    assert rejected("R_HEADER", zipped).belongs_to == "portal"


def test_a_header_that_differs_says_how(write_bytes) -> None:  # type: ignore[no-untyped-def]
    header = ",".join(KIT.header[:-1])
    refusal = rejected("R_HEADER", write_bytes(f"{header}\r\n".encode()))
    assert refusal.belongs_to is None
    assert "1 行目（項目名の行）が「個人番号届出データ」の様式と一致しません：項目「受付日」がありません" in str(refusal)


def test_an_empty_file_says_it_has_0_bytes_and_its_path(write_bytes) -> None:  # type: ignore[no-untyped-def]
    path = write_bytes(b"")
    assert f"ファイルが空です（0 バイト）: {path}" in str(rejected("R_EMPTY", path))
