"""No My Number in a free-text or identifier field (issue 13 item 1; ADR 0020), through the `jutaku` command
on a child home (SQLite or PostgreSQL as the tier says).

The attack as the issue describes it: valid 12-digit numbers were stored in the kit and portal 受付番号, a
rejected row's 受付番号, a person's 住所 and 申込番号, a filing's 受付番号, a linkage answer's エラー内容, an
inquiry answer's 未設定事由 (ASCII and full-width) and an approval's reason, which ``approvals list`` showed to
a security_admin; ``numbers change --reason`` with a number ended in an internal error. Now every such row
is ``E00`` (listed without the value) and every such command is refused cleanly (exit 2) with a message that
names the field and never the value; nothing of it reaches the database, a list or the terminal.
"""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

import pytest

from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import login_as, run_jutaku
from tests.functional.hostile_corpus import (
    Planted,
    plant_csv,
    plant_portal_receipt,
    plant_portal_text,
    read_rows,
    write_rows,
)
from tests.functional.test_no_plaintext_at_rest import database_dump

pytestmark = pytest.mark.subprocess
INCOME = "JT99000000530001"


def listed(stdout: str) -> Path:
    """The list a command wrote (差戻リスト, 要確認リスト …), from its output."""
    found = re.search(r"リスト[^:\n]*: (\S+)", stdout)
    assert found is not None, stdout
    return Path(found.group(1))


def list_rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {row["行番号"]: row for row in csv.DictReader(fh)}


def test_imports_refuse_a_number_in_any_text_or_identifier_field(child_home: dict[str, str], tmp_path: Path) -> None:
    planted = Planted(random.Random(1301))
    world = tmp_path / "world"
    build_world(WorldSpec(persons=400, seed=31, kit_share=0.6, portal_share=0.3), world)
    targets = plant_csv(world / "targets.csv", planted, [(0, "住所", "append"), (1, "申込番号", "replace")])
    procedures = plant_csv(world / "procedures.csv", planted, [(0, "受付番号", "replace")])
    kit = plant_csv(world / "kit.csv", planted, [(0, "受付番号", "replace"), (1, "氏名", "append")])
    plant_portal_receipt(world / "portal.zip", planted, 0)
    plant_portal_text(world / "portal.zip", planted, 1, "住所")
    outputs: list[str] = []

    def jutaku(*args: str) -> str:
        proc = run_jutaku(child_home, *args, "--no-progress", check=True)
        outputs.extend((proc.stdout, proc.stderr))
        return proc.stdout

    lists = {}
    for kind, command, file in (("targets", "import", "targets.csv"), ("procedures", "import", "procedures.csv"),
                                ("kit", "register", "kit.csv"), ("portal", "register", "portal.zip")):
        out = tmp_path / f"rejections-{kind}.csv"
        jutaku(command, kind, str(world / file), "--rejections", str(out))
        lists[kind] = list_rows(out)
    for kind, lines in (("targets", targets), ("procedures", procedures), ("kit", kit), ("portal", ["1", "2"])):
        for line in lines:
            row = lists[kind][str(line)]
            assert row["結果コード"] == "E00", (kind, line, row)
            assert kind == "procedures" or "個人番号と同じ形" in row["理由"], (kind, line, row)
    assert lists["kit"][str(kit[0])]["受付番号"] == "" and lists["portal"]["1"]["受付番号"] == ""

    # The linkage server's エラー内容 and the inquiry answers' 未設定事由 (ASCII and full-width).
    jutaku("linkage", "request", "--out", str(tmp_path / "req.csv"))
    run_jutaku(child_home, "sim", "linkage-server", "--world", str(world), str(tmp_path / "req.csv.enc"),
               str(tmp_path / "ans.csv"), check=True)
    header, rows = read_rows(tmp_path / "ans.csv")
    rows[0].update(結果コード="9", 団体内統合利用番号="",
                   エラー内容=f"連携サーバでエラー {planted.number('linkage-result:2:エラー内容', form=1)}")
    write_rows(tmp_path / "ans.csv", header, rows)
    linkage_list = list_rows(listed(jutaku("linkage", "import", str(tmp_path / "ans.csv"))))
    assert linkage_list["2"]["結果コード"] == "E00"

    jutaku("inquiry", "create", "--procedure", INCOME, "--year", "2026", "--out", str(tmp_path / "inq.csv"))
    run_jutaku(child_home, "sim", "linkage-server", "--world", str(world), str(tmp_path / "inq.csv.enc"),
               str(tmp_path / "inq-ans.csv"), check=True)
    header, rows = read_rows(tmp_path / "inq-ans.csv")
    for i, form in ((0, 0), (1, 2)):
        rows[i].update(結果コード="02", 結果データ="",
                       未設定事由=f"未設定 {planted.number(f'inquiry-result:{i + 2}:未設定事由', form=form)}")
    write_rows(tmp_path / "inq-ans.csv", header, rows)
    inquiry_list = list_rows(listed(jutaku("inquiry", "import", str(tmp_path / "inq-ans.csv"))))
    assert inquiry_list["2"]["結果コード"] == inquiry_list["3"]["結果コード"] == "E00"

    assert planted.found_in(database_dump(child_home)) == []
    for path in [*lists.values(), linkage_list, inquiry_list]:
        assert planted.found_in(repr(path).encode("utf-8")) == []
    for path in Path(child_home["JUTAKU_HOME"]).rglob("rejections-*"):
        assert planted.found_in(path.read_bytes()) == [], path.name
    assert planted.found_in("".join(outputs).encode("utf-8")) == []


def test_commands_refuse_a_number_in_a_reason_or_identifier(child_home: dict[str, str], tmp_path: Path) -> None:
    planted = Planted(random.Random(1302))
    world = tmp_path / "world"
    build_world(WorldSpec(persons=200, seed=32), world)
    for command, kind, file in (("import", "targets", "targets.csv"), ("register", "kit", "kit.csv")):
        run_jutaku(child_home, command, kind, str(world / file), "--no-progress", check=True)
    inquirer, admin = login_as(child_home, "inquirer"), login_as(child_home, "security_admin")
    clerk = child_home  # registrar and supervisor, among others
    with (world / "kit.csv").open(encoding="utf-8", newline="") as fh:
        person = next(csv.DictReader(fh))["個人ID"]
    (tmp_path / "deletion.csv").write_text(f"個人ID,削除理由\r\n{person},9\r\n", encoding="utf-8")

    refused = [
        run_jutaku(inquirer, "export", "business", "request", "--procedure", INCOME, "--year", "2026",
                   "--reason", f"家賃算定（{planted.number('export reason', form=1)}）"),
        run_jutaku(clerk, "delete", "request", str(tmp_path / "deletion.csv"),
                   "--reason", planted.number("deletion reason", form=2)),
        run_jutaku(clerk, "numbers", "change", person, "--reason", f"変更 {planted.number('change reason')}",
                   input=f"{planted.number('new number (the field made for it)', plain=True)}\n"),
        run_jutaku(clerk, "numbers", "change", person, "--reason", "変更届", "--receipt-no",
                   planted.number("change receipt", plain=True), input="123456789018\n"),
    ]
    for proc in refused:
        assert proc.returncode == 2, (proc.returncode, proc.stderr)  # refused; 1 would be an internal error
        assert "個人番号" in proc.stderr and "内部エラー" not in proc.stderr
        assert planted.found_in((proc.stdout + proc.stderr).encode("utf-8")) == []
    assert "理由に個人番号" in refused[0].stderr and "変更理由に個人番号" in refused[2].stderr
    assert "受付番号に個人番号" in refused[3].stderr

    # Nothing was kept, so a security_admin (no personal-data permission) sees none of it.
    shown = run_jutaku(admin, "approvals", "list", check=True)
    assert planted.found_in((shown.stdout + shown.stderr).encode("utf-8")) == []
    assert planted.found_in(database_dump(child_home)) == []
