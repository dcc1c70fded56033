"""The allow-list file is checked whole: any bad row rejects it (nothing half-loaded)."""

from __future__ import annotations

import contextlib
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jutaku.formats.allowlist import HEADER, parse_allowlist
from jutaku.formats.errors import FileRejected

PACKAGED = resources.files("jutaku.data").joinpath("allowlist.csv").read_bytes()


def test_the_packaged_list_parses_with_codes_for_every_housing_category() -> None:
    parsed = parse_allowlist(PACKAGED)
    assert len(parsed.rules) == PACKAGED.decode("utf-8-sig").strip().count("\n")
    assert {r.housing_category for r in parsed.rules} == {"1", "2", "3", "4"}
    assert {r.status for r in parsed.rules} <= {"verified", "verified-provider", "inferred"}


LINE = "公営住宅,JT99000000530001,収入の申告,TM99000000000001,地方税関係情報,区市町村長,番号法19条8号,1,inferred"


@pytest.mark.parametrize(("bad", "code"), [
    (LINE.replace("公営住宅", "県営住宅"), "R_ALLOWLIST"),
    (LINE.replace("JT99000000530001", "JT9900"), "R_ALLOWLIST"),
    (LINE.replace("TM99000000000001", "XX99000000000001"), "R_ALLOWLIST"),
    (LINE.replace(",1,inferred", ",yes,inferred"), "R_ALLOWLIST"),
    (LINE.replace("inferred", "guessed"), "R_ALLOWLIST"),
    (LINE + ",extra", "R_ALLOWLIST"),
    (LINE.replace("番号法19条8号", ""), "R_ALLOWLIST"),
    (LINE + "\r\n" + LINE, "R_ALLOWLIST"),  # the same triple twice
])
def test_one_bad_row_rejects_the_whole_file(bad: str, code: str) -> None:
    data = (",".join(HEADER) + "\r\n" + LINE.replace("TM99000000000001", "TM99000000000002") + "\r\n" + bad).encode()
    with pytest.raises(FileRejected) as exc:
        parse_allowlist(data)
    assert exc.value.code == code and "line" in exc.value.detail


def test_header_encoding_and_empty_files_are_refused() -> None:
    for data, code in [(b"", "R_EMPTY"), (b"a,b\r\n", "R_HEADER"), (b"\xff\xfe" + LINE.encode("utf-16-le"), "R_ENCODING"),
                       ((",".join(HEADER) + "\r\n").encode(), "R_EMPTY")]:
        with pytest.raises(FileRejected) as exc:
            parse_allowlist(data)
        assert exc.value.code == code


@given(st.binary(max_size=400))
def test_junk_is_refused_or_parsed_never_a_crash(data: bytes) -> None:
    with contextlib.suppress(FileRejected):
        parse_allowlist(data)


def test_a_refusal_names_the_line_and_what_the_file_is() -> None:
    """Issue 14 item 6: a broken line is named; a kit file is said to be one (R_HEADER, belongs_to)."""
    body = "\r\n".join([",".join(HEADER), LINE, LINE.replace("TM99000000000001", "TM99000000000002")])
    data = body.encode().replace("番号法".encode(), "番号法".encode("cp932"), 1)  # line 2 in CP932
    with pytest.raises(FileRejected) as broken:
        parse_allowlist(data)
    assert broken.value.line == 2 and str(broken.value).startswith("[R_ENCODING] 2 行目を UTF-8 として読めません")
    kit = "受付番号,個人ID,氏名,氏名カナ,生年月日,性別,個人番号,本人確認書類,受付日\r\n".encode()
    with pytest.raises(FileRejected) as other:
        parse_allowlist(kit)
    assert other.value.code == "R_HEADER" and other.value.belongs_to == "kit"
    assert "このファイルは「個人番号届出データ」のファイルです（許可リストではありません）" in str(other.value)
