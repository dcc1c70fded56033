"""The rejection list never carries a My Number (issue 13 item 2; ADR 0020), also when one got into the
database by another way (a row kept before the import check existed): the writer refuses the whole list
and leaves no file, no ledger row and no output behind. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from jutaku.accounts.actor import SYSTEM
from jutaku.exchange.models import MediaLedgerEntry, OutputFile
from jutaku.registry.models import ImportRejection
from jutaku.registry.rejections import write_rejections

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys")]


@pytest.mark.parametrize("receipt", ["123456789018", "1234-5678-9018", "１２３４５６７８９０１８"])
def test_a_number_shaped_receipt_is_never_written(tmp_path: Path, receipt: str) -> None:
    ImportRejection.objects.create(job_id=7, line_no=2, receipt_no="K202600000049", person_id="1000000001",
                                   code="E03", reason="氏名カナ・生年月日・性別が対象者情報と一致しません")
    ImportRejection.objects.create(job_id=7, line_no=3, receipt_no=receipt, person_id="", code="E00",
                                   reason="項目の形式が不正です")
    out = tmp_path / "lists" / "rejections.csv"
    with pytest.raises(ValueError, match="受付番号") as refused:
        write_rejections(7, out, actor=SYSTEM)
    assert receipt not in str(refused.value) and "123456789018" not in str(refused.value)
    assert list(out.parent.iterdir()) == []  # neither the list nor its manifest
    assert not MediaLedgerEntry.objects.exists() and not OutputFile.objects.exists()


def test_identifiers_and_ordinary_rows_are_written(tmp_path: Path) -> None:
    """A 受付番号 glued to a letter is an identifier, however its digits fall (P + 12 valid digits)."""
    ImportRejection.objects.create(job_id=8, line_no=2, receipt_no="P123456789018", person_id="1000000001",
                                   code="E00", reason="項目の形式が不正です（受付番号：個人番号と同じ形の番号）")
    ImportRejection.objects.create(job_id=8, line_no=3, receipt_no="", person_id="", code="E00",
                                   reason="項目の形式が不正です（受付番号：個人番号と同じ形の番号）")
    path, info = write_rejections(8, tmp_path / "rejections.csv", actor=SYSTEM)
    assert info.rows == 2 and "P123456789018" in path.read_text(encoding="utf-8-sig")
