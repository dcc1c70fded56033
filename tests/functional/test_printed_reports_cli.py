"""Printable reports and Excel lists through the `jutaku` command (ADR 0022), on a child home (SQLite or
PostgreSQL as the tier says): `--format pdf` on `requests disclose`, `stats`, `users review` and
`delete report`; `lists rejections` as a workbook. Each file is an output (0600; the disclosure report
encrypted unless --plain), its Japanese text extractable, its font embedded, no number in it."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from jutaku.sim.faults import FaultRates
from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import child_query, run_jutaku
from tests.reports_support import assert_japanese_font_embedded, flat, numbers_in, pdf_text, workbook_xml

pytestmark = pytest.mark.subprocess


def _private(path: Path) -> bool:
    return path.is_file() and path.stat().st_mode & 0o777 == 0o600


def test_the_commands_write_pdf_reports_and_excel_lists(child_home: dict[str, str], tmp_path: Path) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=120, seed=91, rates=FaultRates.uniform(0.05)), world)

    def jutaku(*args: str) -> str:
        return run_jutaku(child_home, *args, check=True).stdout

    jutaku("import", "targets", str(world / "targets.csv"), "--no-progress")
    registered = jutaku("register", "kit", str(world / "kit.csv"), "--no-progress",
                        "--rejections", str(tmp_path / "rejections.csv"))
    job = re.search(r"job (\d+):", registered)
    assert job, registered

    # The rejection list as a workbook: the outcome table and the same rows as the CSV.
    out = jutaku("lists", "rejections", job.group(1), "--out", str(tmp_path / "rejections.xlsx"))
    assert f"差戻リスト: {tmp_path / 'rejections.xlsx'}" in out and _private(tmp_path / "rejections.xlsx")
    with (tmp_path / "rejections.csv").open(encoding="utf-8-sig", newline="") as fh:
        rejected = list(csv.DictReader(fh))
    assert rejected
    book = load_workbook(tmp_path / "rejections.xlsx")
    assert book.sheetnames == ["結果", "差戻リスト"] and book["差戻リスト"].auto_filter.ref == f"A1:F{len(rejected) + 1}"
    assert [(r[2] or "", r[3]) for r in book["差戻リスト"].iter_rows(min_row=2, values_only=True)] == [
        (r["個人ID"], r["結果コード"]) for r in rejected]
    assert not numbers_in(workbook_xml((tmp_path / "rejections.xlsx").read_bytes()))

    # The statistics and the access review, printable.
    jutaku("stats", "--out", str(tmp_path / "stats.pdf"), "--format", "pdf")
    jutaku("users", "review", "--out", str(tmp_path / "review.csv"), "--format", "pdf")
    for name, title in (("stats.pdf", "統計（個人を特定しない集計）"), ("review.pdf", "アクセス権限確認（年次）")):
        data = (tmp_path / name).read_bytes()
        assert _private(tmp_path / name) and data.startswith(b"%PDF"), name
        assert_japanese_font_embedded(data)
        assert title in pdf_text(data) and not numbers_in(pdf_text(data)), name
    assert "op.multi" in flat(pdf_text((tmp_path / "review.pdf").read_bytes()))

    # The disclosure report: encrypted by default, plain only when asked (audited).
    with (world / "targets.csv").open(encoding="utf-8-sig", newline="") as fh:
        person = next(csv.DictReader(fh))["個人ID"]
    made = re.search(r"請求 #(\d+)", jutaku("requests", "record", "--person", person, "--kind", "disclosure"))
    assert made
    jutaku("requests", "disclose", made.group(1), "--out", str(tmp_path / "sealed.pdf"), "--format", "pdf")
    assert _private(tmp_path / "sealed.pdf.enc") and not (tmp_path / "sealed.pdf").exists()
    assert not (tmp_path / "sealed.pdf.enc").read_bytes().startswith(b"%PDF")
    jutaku("requests", "disclose", made.group(1), "--out", str(tmp_path / "print.pdf"), "--format", "pdf", "--plain")
    data = (tmp_path / "print.pdf").read_bytes()
    assert _private(tmp_path / "print.pdf")
    assert_japanese_font_embedded(data)
    text = pdf_text(data)
    assert "保有個人情報開示書（特定個人情報）" in text and person in text and not numbers_in(text)
    assert child_query(child_home, "select count(*) from audit_record where event = 'media:plain'") == [(1,)]
    written = {r[0] for r in child_query(child_home, "select interface from exchange_medialedgerentry where direction = 'write'")}
    assert {"rejections", "statistics", "access-review", "disclosure-report"} <= written

    # A deletion record that does not exist is refused, in Japanese, with nothing written.
    refused = run_jutaku(child_home, "delete", "report", "999", "--out", str(tmp_path / "none.pdf"))
    assert refused.returncode == 2 and "削除記録はありません" in refused.stderr + refused.stdout
    assert not (tmp_path / "none.pdf").exists()
