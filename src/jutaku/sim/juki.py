"""The simulated Juki-net (住基ネット, 東京都サーバ): answers query files from ``truth/juki.csv``.

A query is by My Number: a number the truth holds → ``00`` with the truth's identity (name, kana, birth
date, sex, address, 住民票コード) and latest change (異動事由, 異動年月日, 現存区分); unknown → ``01`` 該当なし;
``--error-rate`` turns answers into ``09``, drawn per 照会番号 from the world's seed. Synthetic data only;
never touches the database; the answer gets a manifest.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from jutaku.domain import my_number
from jutaku.formats.csvio import read_csv
from jutaku.formats.layouts import JUKI_REQUEST, JUKI_RESULT_LAYOUT
from jutaku.sim.linkage import plaintext, write_answers

SIM_USER = "sim-juki"
_FIELDS = ("住民票コード", "個人番号", "氏名", "氏名カナ", "生年月日", "性別", "住所", "異動事由", "異動年月日", "現存区分")


def _answers(world: Path, queries: Path | BinaryIO, error_rate: float) -> Iterator[dict[str, str]]:
    seed = int(json.loads((world / "world.json").read_text(encoding="utf-8"))["seed"])
    with (world / "truth" / "juki.csv").open(encoding="utf-8-sig", newline="") as fh:
        truth = {row["個人番号"]: row for row in csv.DictReader(fh)}
    with read_csv(plaintext(queries), JUKI_REQUEST) as reader:
        for row in reader:
            no = row.values.get("照会番号", "")
            answer = dict.fromkeys(("照会番号", "処理結果", *_FIELDS), "")
            answer["照会番号"] = no
            draw = random.Random(f"{seed}/juki/{no}").random()  # noqa: S311 - synthetic answers
            found = truth.get(my_number.normalise(row.values.get("個人番号", "")))
            if row.errors or draw < error_rate:
                answer["処理結果"] = "09"
            elif found is None:
                answer["処理結果"] = "01"
            else:
                answer.update({k: found[k] for k in _FIELDS}, 処理結果="00")
            yield answer


def answer_juki(world: Path, queries: Path | BinaryIO, out: Path, *, error_rate: float = 0.0) -> dict[str, int]:
    """Answer the juki-request file ``queries`` into ``out`` (+ manifest); counts by 処理結果."""
    if not 0 <= error_rate <= 1:
        raise ValueError("error rate must be within 0..1")
    return write_answers(out, JUKI_RESULT_LAYOUT, _answers(world, queries, error_rate), code="処理結果",
                         created_by=SIM_USER)
