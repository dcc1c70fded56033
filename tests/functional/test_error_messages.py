"""Error messages say what happened and what to do, in Japanese first (issue 14 item 6, ADR 0028). The real
``jutaku`` command in a child process.

- a missing path is "not found", never "empty"; a folder is said to be a folder; an empty file has 0 bytes;
- a file with lines in two encodings names the line, and the encoding the file was judged to be in;
- a file handed to the wrong import says what it is and names the command that imports it;
- a refusal for want of a permission names, in Japanese, the roles that hold it and whom to ask.
Each is refused whole (exit 2, or 3 for a permission) and nothing is applied.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jutaku.formats import docgen
from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import JUKI_RESULT_LAYOUT, KIT, PROCEDURES, Layout
from tests.conftest import child_query, login_as, run_jutaku
from tests.unit.formats.conftest import kit_bytes

pytestmark = [pytest.mark.subprocess]


def sample_file(path: Path, layout: Layout, rows: int = 3, encoding: str = "utf-8") -> Path:
    write_csv(path, layout, [docgen.sample_row(layout) for _ in range(rows)], encoding=encoding)  # type: ignore[arg-type]
    return path


def refused(env: dict[str, str], *args: str) -> str:
    done = run_jutaku(env, *args, "--dry-run", timeout=120) if args[0] != "allowlist" else run_jutaku(env, *args)
    assert done.returncode == 2, (args, done.stdout, done.stderr)
    assert not done.stderr.startswith("Error"), done.stderr  # Japanese first
    return done.stderr


def test_file_refusals_say_what_happened_and_what_to_do(child_home: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "kit-2026.csv"
    for command in (["register", "kit"], ["register", "portal"], ["import", "targets"], ["juki", "import"]):
        said = refused(child_home, *command, str(missing))
        assert f"[R_NOT_FOUND] ファイルが見つかりません: {missing}。パスを確認してください。" in said, said
        assert "空です" not in said
    assert f"フォルダが指定されました: {tmp_path}" in refused(child_home, "register", "kit", str(tmp_path))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert f"[R_EMPTY] ファイルが空です（0 バイト）: {empty}" in refused(child_home, "register", "kit", str(empty))

    mixed = tmp_path / "mixed.csv"
    lines = kit_bytes(50).split(b"\r\n")
    lines[36] = lines[36].decode().encode("cp932")  # record 37 in CP932, the rest UTF-8
    mixed.write_bytes(b"\r\n".join(lines))
    said = refused(child_home, "register", "kit", str(mixed))
    assert "[R_ENCODING] 37 行目を UTF-8 として読めません（このファイルの文字コードは 1 行目（項目名の行）から UTF-8 と判断しました）" in said
    assert "この行は CP932（Shift_JIS）で書かれているようです" in said and "ファイル全体を UTF-8（BOM 可）または CP932" in said

    juki = sample_file(tmp_path / "juki-answer.csv", JUKI_RESULT_LAYOUT, encoding="cp932")
    said = refused(child_home, "inquiry", "import", str(juki))
    assert "このファイルは「住基ネット 本人確認情報 照会結果」のファイルです（「情報照会結果」の取込では読めません）" in said
    assert f"→ このファイルの取込: jutaku juki import {juki}" in said
    procedures = sample_file(tmp_path / "procedures.csv", PROCEDURES)
    said = refused(child_home, "register", "kit", str(procedures))
    assert "「都住システム 手続抽出」のファイルです" in said
    assert f"→ このファイルの取込: jutaku import procedures {procedures}" in said
    kit = sample_file(tmp_path / "kit.csv", KIT)
    said = refused(child_home, "register", "portal", str(kit))
    assert "[R_ZIP] このファイルは「個人番号届出データ」のファイルです" in said
    assert f"→ このファイルの取込: jutaku register kit {kit}" in said
    assert f"jutaku register kit {kit}" in refused(child_home, "allowlist", "load", str(kit))

    # Refused whole: no job ran, and every refusal is on the media ledger with its code.
    assert child_query(child_home, "SELECT COUNT(*) FROM jobs_job")[0][0] == 0
    codes = {row[0] for row in child_query(child_home, "SELECT outcome FROM exchange_medialedgerentry WHERE direction = 'read'")}
    assert {"R_NOT_FOUND", "R_EMPTY", "R_ENCODING", "R_HEADER", "R_ZIP"} <= codes


def test_a_permission_refusal_names_the_roles_and_whom_to_ask(child_home: dict[str, str], tmp_path: Path) -> None:
    registrar = login_as(child_home, "registrar", username="yamada.t")
    done = run_jutaku(registrar, "linkage", "import", str(tmp_path / "answers.csv"))
    assert done.returncode == 3
    assert done.stderr.strip() == (
        "権限がありません (permission denied): yamada.t は jutaku linkage import を実行できません。"
        "このコマンドには「照会担当」のロールが必要です（あなたのロール: 番号登録担当）。"
        "必要な場合は、セキュリティ管理者にロールの付与を依頼してください。 / missing permission linkage:run")
    auditor = login_as(child_home, "auditor", username="ito.s")
    done = run_jutaku(auditor, "register", "kit", str(tmp_path / "kit.csv"))
    assert done.returncode == 3 and "「番号登録担当」のロールが必要です（あなたのロール: 監査担当）" in done.stderr
    assert "監査担当は他のロールと兼務できないため（職務の分離）、番号登録担当の職員に依頼してください。" in done.stderr
