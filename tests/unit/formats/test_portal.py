"""マイナポータル ZIP+XML downloads (interfaces.md "portal"; checklist FILE-02, VAL-05)."""

from __future__ import annotations

import hashlib
import stat
import struct
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from jutaku.formats.errors import FileRejected
from jutaku.formats.portal import prescan_portal, read_portal_zip
from tests.unit.formats.ziptools import Entry, deflated, raw_zip, zeros_bomb, zip64_extra

NUMBER = "123456789018"  # synthetic, valid check digit


def application(receipt: str = "202604010001", /, **changes: str | None) -> str:
    fields = {
        "受付番号": receipt, "受付日時": "20260401093012123", "手続名": "都営住宅 個人番号届出",
        "個人ID": "1000000001", "氏名": "都営 太郎", "氏名カナ": "トエイ タロウ", "生年月日": "19700123",
        "性別": "1", "住所": "東京都新宿区西新宿二丁目8番1号", "個人番号": NUMBER, "方法": "JPKI",
        "電子証明書シリアル番号": "0A1B2C3D", "照会同意": "1", "不開示希望": "0",
    } | changes

    def el(name: str) -> str:
        value = fields[name]
        return "" if value is None else f"<{name}>{value}</{name}>"

    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<申請データ>\n  '
        + el("受付番号") + el("受付日時") + el("手続名")
        + "\n  <申請者>" + "".join(el(n) for n in ("個人ID", "氏名", "氏名カナ", "生年月日", "性別", "住所"))
        + "</申請者>\n  " + el("個人番号")
        + "\n  <本人確認>" + el("方法") + el("電子証明書シリアル番号") + "</本人確認>\n  "
        + el("照会同意") + el("不開示希望") + "\n</申請データ>\n"
    )


def make_zip(path: Path, files: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content.encode("utf-8") if isinstance(content, str) else content)
    return path


def rows_of(path: Path, **limits: int) -> list:  # type: ignore[type-arg]
    return list(read_portal_zip(path, **limits))


def rejected(path: Path, code: str = "R_ZIP", **limits: int) -> None:
    with pytest.raises(FileRejected) as info:
        rows_of(path, **limits)
    assert info.value.code == code, str(info.value)
    with pytest.raises(FileRejected):
        prescan_portal(path, **limits)


def test_applications_are_read_and_attachments_skipped(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "p.zip", {
        "202604010001.xml": application(),
        "添付/202604010001_免許証.pdf": b"%PDF-1.4 synthetic",
        "dir/202604010002.xml": application("202604010002", 氏名カナ="トエイ ハナコ"),
    })
    rows = rows_of(path)
    assert [r.line_no for r in rows] == [1, 3]
    assert rows[0].errors == () and rows[1].errors == ()
    assert rows[0].values["個人番号"] == NUMBER
    assert rows[0].values["本人確認方法"] == "JPKI"
    assert rows[1].values["氏名カナ"] == "トエイ ハナコ"
    info = prescan_portal(path)
    assert info.rows == 2 and info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_pretty_printed_values_are_stripped_of_xml_white_space(tmp_path: Path) -> None:
    xml = application(氏名="\n    都営 太郎\n  ")
    [row] = rows_of(make_zip(tmp_path / "p.zip", {"202604010001.xml": xml}))
    assert row.values["氏名"] == "都営 太郎" and row.errors == ()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"個人ID": None}, [("個人ID", "F_REQUIRED")]),
        ({"性別": "3"}, [("性別", "F_CODE")]),
        ({"生年月日": "S450132"}, [("生年月日", "F_DATE")]),
        ({"氏名": "=cmd|' /C calc'!A0"}, [("氏名", "F_FORMULA")]),
        ({"氏名": "都営\u202e太郎"}, [("氏名", "F_CHARS")]),
        ({"氏名": "都営\ue000"}, [("氏名", "F_CHARS")]),
        ({"手続名": None, "住所": None, "照会同意": None}, []),
        ({"受付番号": "202604019999"}, [("受付番号", "F_ENTRY_NAME")]),
        ({"氏名": "都営</氏名><氏名>太郎"}, [("氏名", "F_ELEMENT")]),
        ({"氏名": "<姓>都営</姓>"}, [("氏名", "F_ELEMENT")]),
    ],
)
def test_field_problems_are_row_errors(tmp_path: Path, changes: dict[str, str | None],
                                       expected: list[tuple[str, str]]) -> None:
    [row] = rows_of(make_zip(tmp_path / "p.zip", {"202604010001.xml": application(**changes)}))
    assert [(e.column, e.code) for e in row.errors] == expected
    assert all(NUMBER not in e.message for e in row.errors)


# --- whole-archive rejections ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["../x.xml", "/abs/x.xml", "a/../../x.xml", "a\\..\\x.xml", "C:/x.xml", "c:x.xml",
                                  "a\x00.xml", ""])
def test_unsafe_names_are_rejected(tmp_path: Path, name: str) -> None:
    entry = deflated(name, application().encode())
    path = tmp_path / "p.zip"
    path.write_bytes(raw_zip([entry]))
    before = sorted(tmp_path.rglob("*"))
    rejected(path)
    assert sorted(tmp_path.rglob("*")) == before  # nothing extracted anywhere


def test_symlink_entry_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p.zip"
    link = deflated("202604010001.xml", b"/etc/passwd", external_attr=(stat.S_IFLNK | 0o777) << 16)
    path.write_bytes(raw_zip([link]))
    rejected(path)


@pytest.mark.parametrize(("name", "content"), [("inner.zip", b"anything"), ("inner.GZ", b"x"),
                                               ("a.bin", b"PK\x03\x04rest"), ("b.xml", b"\x1f\x8b\x08rest")])
def test_nested_archives_are_rejected(tmp_path: Path, name: str, content: bytes) -> None:
    rejected(make_zip(tmp_path / "p.zip", {"202604010001.xml": application(), name: content}))


def test_real_nested_zip_is_rejected(tmp_path: Path) -> None:
    inner = make_zip(tmp_path / "inner.zip", {"202604010001.xml": application()}).read_bytes()
    rejected(make_zip(tmp_path / "p.zip", {"data.dat": inner}))


def test_encrypted_entry_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p.zip"
    path.write_bytes(raw_zip([deflated("202604010001.xml", application().encode(), flags=0x801)]))
    rejected(path)


def test_unsupported_compression_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as zf:
        zf.writestr("202604010001.xml", application())
    rejected(path)


def test_duplicate_names_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p.zip"
    entry = deflated("202604010001.xml", application().encode())
    path.write_bytes(raw_zip([entry, entry]))
    rejected(path)


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04" + b"\x00" * 100,
                                     "受付番号,個人ID\r\n".encode()])
def test_not_a_zip_is_rejected(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "p.zip"
    path.write_bytes(content)
    rejected(path)


def test_a_csv_given_for_a_download_says_what_it_is(tmp_path: Path) -> None:
    """Issue 14 item 6: a kit CSV handed to the portal registration is named, and pointed to its import."""
    from jutaku.formats.layouts import KIT

    path = tmp_path / "kit.csv"
    path.write_bytes((",".join(KIT.header) + "\r\n").encode("cp932"))
    with pytest.raises(FileRejected) as info:
        prescan_portal(path)
    assert info.value.code == "R_ZIP" and info.value.belongs_to == "kit"
    assert str(info.value).startswith("[R_ZIP] このファイルは「個人番号届出データ」のファイルです"
                                      "（「マイナポータル申請データ（ZIP）」の登録では読めません）。")


def test_corrupt_data_is_rejected(tmp_path: Path) -> None:
    entry = deflated("202604010001.xml", application().encode())
    entry.crc ^= 1
    path = tmp_path / "p.zip"
    path.write_bytes(raw_zip([entry]))
    rejected(path)


@pytest.mark.timeout(60)
def test_one_gib_zip_bomb_is_rejected_quickly(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    path.write_bytes(raw_zip([zeros_bomb("202604010001.xml")]))
    assert path.stat().st_size < 5 * 1024 * 1024
    start = time.perf_counter()
    rejected(path)
    assert time.perf_counter() - start < 10


def test_total_decompressed_bytes_are_capped(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {f"att{i}.bin": bytes(300_000) for i in range(5)}
    rejected(make_zip(tmp_path / "p.zip", files), max_entry_bytes=400_000, max_total_bytes=1_000_000)
    assert rows_of(tmp_path / "p.zip", max_entry_bytes=400_000, max_total_bytes=1_600_000) == []


def test_lying_file_size_header_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "p.zip"
    path.write_bytes(raw_zip([deflated("att.bin", bytes(10_000_000), declared_size=100)]))
    rejected(path)
    path.write_bytes(raw_zip([deflated("att.bin", bytes(10_000_000), declared_size=100)]))
    rejected(path, max_entry_bytes=1_000_000)


@pytest.mark.timeout(60)
def test_100k_entry_zip_is_rejected_before_the_central_directory_is_parsed(tmp_path: Path) -> None:
    entry = deflated("a.txt", b"")
    entries = [Entry(f"{i}.txt", entry.data, entry.crc, 0) for i in range(100_000)]
    path = tmp_path / "many.zip"
    path.write_bytes(raw_zip(entries))
    rejected(path)
    path.write_bytes(raw_zip(entries, declared_total=5))  # a lying entry count
    rejected(path)


def test_max_entries_is_enforced(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {f"{i}.txt": b"" for i in range(11)}
    rejected(make_zip(tmp_path / "p.zip", files), max_entries=10)
    assert rows_of(tmp_path / "p.zip", max_entries=11) == []


def test_archive_over_the_size_limit_is_rejected(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "p.zip", {"202604010001.xml": application()})
    rejected(path, "R_SIZE", max_total_bytes=path.stat().st_size - 1)


# --- XML --------------------------------------------------------------------------------------------

XXE = ('<?xml version="1.0"?><!DOCTYPE 申請データ [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
       "<申請データ><受付番号>&e;</受付番号></申請データ>")
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                    for i in range(1, 10))
          + "]><申請データ><受付番号>&lol9;</受付番号></申請データ>")
EXTERNAL_DTD = '<?xml version="1.0"?><!DOCTYPE 申請データ SYSTEM "http://example.invalid/x.dtd"><申請データ/>'


@pytest.mark.parametrize("xml", [XXE, LAUGHS, EXTERNAL_DTD, "<申請データ>", "<他の文書/>", "not xml",
                                 '<?xml version="1.0" encoding="Shift_JIS"?><申請データ>\x82\xa0</申請データ>'])
def test_dangerous_or_malformed_xml_rejects_the_archive_within_a_second(tmp_path: Path, xml: str) -> None:
    path = make_zip(tmp_path / "p.zip", {"202604010001.xml": application(), "202604010002.xml": xml})
    start = time.perf_counter()
    rejected(path, "R_XML")
    assert time.perf_counter() - start < 1


def test_zip64_end_records_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p.zip"
    path.write_bytes(raw_zip([deflated("202604010001.xml", application().encode())], declared_total=0xFFFF))
    rejected(path)


def test_an_entry_with_a_zip64_local_header_is_rejected(tmp_path: Path) -> None:
    """Issue 13 item 9: the stdlib writes ZIP64 into the local header only (a plain central directory and end
    record); the reader used to accept such an archive although docs/formats says ZIP64 is rejected."""
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, \
            zf.open("202604010001.xml", "w", force_zip64=True) as entry:
        entry.write(application().encode())
    with zipfile.ZipFile(path) as zf:  # what the old check saw: nothing ZIP64 outside the local header
        assert zf.infolist()[0].extra == b""
    rejected(path)


@pytest.mark.parametrize("entry", [
    pytest.param({"central_extra": zip64_extra()}, id="central-extra"),
    pytest.param({"local_extra": zip64_extra(1, 1)}, id="local-extra"),
    pytest.param({"local_sizes": 0xFFFFFFFF}, id="local-sizes"),
    pytest.param({"declared_size": 0xFFFFFFFF}, id="central-size"),
])
def test_every_zip64_marker_of_an_entry_is_rejected(tmp_path: Path, entry: dict[str, Any]) -> None:
    plain = deflated("202604010001.xml", application().encode())
    path = tmp_path / "p.zip"
    path.write_bytes(raw_zip([plain, deflated("202604010002.xml", application("202604010002").encode(), **entry)]))
    rejected(path)
    path.write_bytes(raw_zip([plain]))
    assert len(rows_of(path)) == 1  # the same archive without the marker is read


def test_a_zip64_locator_before_a_plain_end_record_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p.zip"
    path.write_bytes(raw_zip([deflated("202604010001.xml", application().encode())], zip64_locator=True))
    rejected(path)


def test_an_unrelated_extra_field_is_accepted(tmp_path: Path) -> None:
    """Extended timestamps (0x5455) and the like are not ZIP64."""
    stamp = struct.pack("<2HBL", 0x5455, 5, 1, 1_700_000_000)
    path = tmp_path / "p.zip"
    path.write_bytes(raw_zip([deflated("202604010001.xml", application().encode(), local_extra=stamp,
                                       central_extra=stamp)]))
    assert len(rows_of(path)) == 1


def test_an_empty_archive_has_no_applications(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "p.zip", {})
    assert rows_of(path) == [] and prescan_portal(path).rows == 0


def test_an_entry_whose_local_header_is_missing_is_rejected(tmp_path: Path) -> None:
    data = bytearray(raw_zip([deflated("202604010001.xml", application().encode())]))
    data[0:4] = b"XX\x03\x04"  # the central record points at no local header
    path = tmp_path / "p.zip"
    path.write_bytes(bytes(data))
    rejected(path)


def test_an_archive_that_grows_while_it_is_hashed_is_cut_at_the_limit(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The hash pass counts the bytes it reads, not the size checked before (a file can grow meanwhile)."""
    from jutaku.formats import portal

    path = make_zip(tmp_path / "p.zip", {"202604010001.xml": application()})
    limit = path.stat().st_size + 10

    def grows(*args: Any, **kwargs: Any) -> list[Any]:
        with path.open("ab") as fh:
            fh.write(b"\0" * 100)
        return []

    monkeypatch.setattr(portal, "read_portal_zip", grows)
    with pytest.raises(FileRejected) as info:
        prescan_portal(path, max_total_bytes=limit)
    assert info.value.code == "R_SIZE"


def test_the_documented_limits_are_the_defaults() -> None:
    """docs/formats/portal.md states them (generated from these constants); registration uses the defaults."""
    from jutaku.formats import portal

    assert (portal.DEFAULT_MAX_ENTRIES, portal.DEFAULT_MAX_ENTRY_BYTES, portal.DEFAULT_MAX_TOTAL_BYTES) == (
        50_000, 32 << 20, 2 << 30)
    text = (Path(__file__).resolve().parents[3] / "docs" / "formats" / "portal.md").read_text(encoding="utf-8")
    assert "more than 50,000 entries" in text and "32 MiB" in text and "2 GiB" in text


def test_an_end_record_over_garbage_is_rejected(tmp_path: Path) -> None:
    from tests.unit.formats.ziptools import END

    path = tmp_path / "p.zip"
    path.write_bytes(b"garbage" * 20 + END.pack(b"PK\x05\x06", 0, 0, 1, 1, 46, 0, 0))
    rejected(path)


def test_directory_entries_and_bare_xml_names_are_not_applications(tmp_path: Path) -> None:
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.mkdir("添付")
        zf.writestr(".xml", b"<x/>")
        zf.writestr("202604010001.XML", application())
    [row] = rows_of(path)
    assert row.line_no == 3 and row.errors == ()
