"""The simulated linkage server (団体内統合利用番号連携サーバ): answers request files from a world's truth.

Linkage requests (統合利用番号取得要求) are answered with each person's integrated number, found by the
My Number in ``truth/juki.csv``; a number the truth does not know is ``1`` 該当なし. Configurable rates
turn answers into 該当なし or エラー (``9``), drawn from a PRNG seeded by the world's seed and the request
id, so the same request always gets the same answer. The integrated number of a person is a bijection of
the 個人ID (unique, reproducible), never derived from the My Number.

Synthetic data only; never touches the database. The answer file gets a manifest like every exchange file.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from jutaku.domain import my_number
from jutaku.formats.csvio import read_csv, write_csv
from jutaku.formats.layouts import LINKAGE_REQUEST, LINKAGE_RESULT_LAYOUT
from jutaku.formats.manifest import write_manifest

MODULUS: Final = 10**15
_MULTIPLIER: Final = 738_219_061_247_603  # odd and not a multiple of 5: a bijection modulo 10**15
SIM_USER: Final = "sim-linkage-server"


@dataclass(frozen=True)
class Rates:
    not_found: float = 0.0
    error: float = 0.0

    def __post_init__(self) -> None:
        if not (0 <= self.not_found <= 1 and 0 <= self.error <= 1 and self.not_found + self.error <= 1):
            raise ValueError("rates must be within 0..1 together")


def integrated_number(seed: int, person_id: str) -> str:
    """The simulated 団体内統合利用番号 (15 digits) of a person of the world with ``seed``."""
    value = (int(person_id) * _MULTIPLIER + seed * 1_000_003 + 17) % MODULUS
    return f"{value:015d}"


def _world_seed(world: Path) -> int:
    return int(json.loads((world / "world.json").read_text(encoding="utf-8"))["seed"])


def _persons_by_number(world: Path) -> dict[str, str]:
    with (world / "truth" / "juki.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {row["個人番号"]: row["個人ID"] for row in csv.DictReader(fh)}


def _answers(world: Path, requests: Path, rates: Rates) -> Iterator[dict[str, str]]:
    seed = _world_seed(world)
    persons = _persons_by_number(world)
    with read_csv(requests, LINKAGE_REQUEST) as reader:
        for row in reader:
            v = row.values
            rng = random.Random(f"{seed}/linkage/{v.get('要求番号', '')}")  # noqa: S311 - synthetic answers
            draw = rng.random()
            person = persons.get(my_number.normalise(v.get("個人番号", "")))
            answer = {"要求番号": v.get("要求番号", ""), "個別業務システム利用番号": v.get("個別業務システム利用番号", ""),
                      "団体内統合利用番号": "", "結果コード": "1", "エラー内容": ""}
            if row.errors or draw < rates.error:
                answer.update(結果コード="9", エラー内容="E-SIM 模擬エラー（要求を処理できませんでした）")
            elif person is not None and draw >= rates.error + rates.not_found:
                answer.update(団体内統合利用番号=integrated_number(seed, person), 結果コード="0")
            yield answer


def answer_linkage(world: Path, requests: Path, out: Path, rates: Rates = Rates()) -> dict[str, int]:
    """Answer the linkage-request file ``requests`` into ``out`` (+ manifest); return counts by 結果コード."""
    counts: dict[str, int] = {}

    def counted() -> Iterator[dict[str, str]]:
        for answer in _answers(world, requests, rates):
            counts[answer["結果コード"]] = counts.get(answer["結果コード"], 0) + 1
            yield answer

    info = write_csv(out, LINKAGE_RESULT_LAYOUT, counted())
    write_manifest(out, interface=LINKAGE_RESULT_LAYOUT.name, layout_version=LINKAGE_RESULT_LAYOUT.version,
                   record_count=info.rows, sha256=info.sha256, created_at=datetime.now(UTC), created_by=SIM_USER,
                   job_id=None)
    return counts
