"""The simulated linkage server (団体内統合利用番号連携サーバ): answers request files from a world's truth.

Inquiry requests (情報照会要求) are answered from ``truth/<information>.csv`` of the person the integrated
number belongs to: ``00`` with the items as JSON, ``01`` 該当なし when that agency has no record, and at
configurable rates ``02`` 未設定 or ``09`` エラー. Beside the answers it writes ``<out>.received.csv``
(要求番号, 個人ID, 不開示コード): what it was sent, so tests can prove the DV rule end to end.

Linkage requests (統合利用番号取得要求) are answered with each person's integrated number, found by the
My Number in ``truth/juki.csv``; a number the truth does not know is ``1`` 該当なし. Configurable rates
turn answers into 該当なし or エラー (``9``), drawn from a PRNG seeded by the world's seed and the request
id, so the same request always gets the same answer. The integrated number of a person is a bijection of
the 個人ID (unique, reproducible), never derived from the My Number.

Synthetic data only; never touches the database. The answer file gets a manifest like every exchange file.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Final

from jutaku.domain import my_number
from jutaku.formats.csvio import read_csv, write_csv
from jutaku.formats.files import write_private
from jutaku.formats.layouts import (
    INQUIRY_REQUEST,
    INQUIRY_RESULT_LAYOUT,
    LINKAGE_REQUEST,
    LINKAGE_RESULT_LAYOUT,
    Layout,
)
from jutaku.formats.manifest import write_manifest

#: A request file: its path, or a binary stream of its plaintext (an encrypted file, decrypted in memory).
Source = Path | BinaryIO
MODULUS: Final = 10**15
_MULTIPLIER: Final = 738_219_061_247_603  # odd and not a multiple of 5: a bijection modulo 10**15
SIM_USER: Final = "sim-linkage-server"


@dataclass(frozen=True)
class Rates:
    """Shares of answers turned into 該当なし (linkage), 未設定 (inquiries) and エラー (both)."""

    not_found: float = 0.0
    error: float = 0.0
    unset: float = 0.0

    def __post_init__(self) -> None:
        values = (self.not_found, self.error, self.unset)
        if not (all(0 <= v <= 1 for v in values) and sum(values) <= 1):
            raise ValueError("rates must be within 0..1 together")


def plaintext(source: Source) -> Source:
    """The request file as the other side reads it: an encrypted file (``.enc``) decrypted in memory under
    the media key, which the linkage server and Juki-net hold too; anything else as it is."""
    if isinstance(source, Path) and source.name.endswith(".enc"):
        from jutaku.crypto.keyring import get_keyring
        from jutaku.crypto.media import open_media

        with open_media(source, get_keyring().media_key) as fh:
            return io.BytesIO(fh.read())
    return source


def integrated_number(seed: int, person_id: str) -> str:
    """The simulated 団体内統合利用番号 (15 digits) of a person of the world with ``seed``."""
    value = (int(person_id) * _MULTIPLIER + seed * _CONSTANT_STEP + 17) % MODULUS
    return f"{value:015d}"


_CONSTANT_STEP: Final = 1_000_003
TRUTH_FILES: Final = {"01": "tax", "02": "resident_record", "03": "public_assistance", "04": "support_benefit",
                      "05": "disability_physical", "06": "disability_mental", "07": "koseki", "90": "ai_no_techo"}


def person_of(seed: int, number: str) -> str | None:
    """The 個人ID whose simulated integrated number is ``number`` (the inverse of :func:`integrated_number`)."""
    if len(number) != 15 or not number.isascii() or not number.isdigit():
        return None
    value = ((int(number) - seed * _CONSTANT_STEP - 17) * pow(_MULTIPLIER, -1, MODULUS)) % MODULUS
    return f"{value:010d}" if value < 10**10 else None


def _world_seed(world: Path) -> int:
    return int(json.loads((world / "world.json").read_text(encoding="utf-8"))["seed"])


def _persons_by_number(world: Path) -> dict[str, str]:
    with (world / "truth" / "juki.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {row["個人番号"]: row["個人ID"] for row in csv.DictReader(fh)}


def _answers(world: Path, requests: Source, rates: Rates) -> Iterator[dict[str, str]]:
    seed = _world_seed(world)
    persons = _persons_by_number(world)
    with read_csv(plaintext(requests), LINKAGE_REQUEST) as reader:
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


def write_answers(out: Path, layout: Layout, answers: Iterable[dict[str, str]], *, code: str,
                  created_by: str = SIM_USER) -> dict[str, int]:
    """Write a simulated answer file in ``layout`` with its manifest; return the counts of column ``code``."""
    counts: Counter[str] = Counter()

    def counted() -> Iterator[dict[str, str]]:
        for answer in answers:
            counts[answer[code]] += 1
            yield answer

    info = write_csv(out, layout, counted())
    write_manifest(out, interface=layout.name, layout_version=layout.version, record_count=info.rows,
                   sha256=info.sha256, created_at=datetime.now(UTC), created_by=created_by, job_id=None)
    return dict(counts)


def answer_linkage(world: Path, requests: Source, out: Path, rates: Rates = Rates()) -> dict[str, int]:
    """Answer the linkage-request file ``requests`` into ``out`` (+ manifest); return counts by 結果コード."""
    return write_answers(out, LINKAGE_RESULT_LAYOUT, _answers(world, requests, rates), code="結果コード")


def _truth(world: Path, name: str) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """(item names, {個人ID: item values}) of one truth file."""
    with (world / "truth" / f"{name}.csv").open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = tuple(next(reader))[1:]
        return header, {row[0]: tuple(row[1:]) for row in reader}


def _inquiry_answers(world: Path, requests: Source, rates: Rates,
                     received: list[tuple[str, str, str]]) -> Iterator[dict[str, str]]:
    seed = _world_seed(world)
    truth: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {}
    with read_csv(plaintext(requests), INQUIRY_REQUEST) as reader:
        for row in reader:
            v = row.values
            no, info = v.get("要求番号", ""), v.get("特定個人情報名コード", "")
            person = person_of(seed, v.get("団体内統合利用番号", ""))
            received.append((no, person or "", v.get("不開示コード", "")))
            answer = {"要求番号": no, "団体内統合利用番号": v.get("団体内統合利用番号", ""), "特定個人情報名コード": info,
                      "結果コード": "01", "未設定事由": "", "結果データ": ""}
            draw = random.Random(f"{seed}/inquiry/{no}").random()  # noqa: S311 - synthetic answers
            name = TRUTH_FILES.get(info[-2:])
            if row.errors or name is None or draw < rates.error:
                answer.update(結果コード="09")
            elif draw < rates.error + rates.unset:
                answer.update(結果コード="02", 未設定事由="提供者において情報が未登録です（模擬）")
            elif person is not None:
                if name not in truth:
                    truth[name] = _truth(world, name)
                items, rows = truth[name]
                values = rows.get(person)
                if values is not None:
                    answer.update(結果コード="00", 結果データ=json.dumps(dict(zip(items, values, strict=True)),
                                                                ensure_ascii=False))
            yield answer


def answer_inquiries(world: Path, requests: Source, out: Path, rates: Rates = Rates()) -> dict[str, int]:
    """Answer the inquiry-request file ``requests`` into ``out`` (+ manifest, + ``<out>.received.csv``)."""
    received: list[tuple[str, str, str]] = []
    counts = write_answers(out, INQUIRY_RESULT_LAYOUT, _inquiry_answers(world, requests, rates, received),
                           code="結果コード")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(("要求番号", "個人ID", "不開示コード"))
    writer.writerows(received)
    write_private(received_path(out), text.getvalue().encode("utf-8"))
    return counts


def received_path(out: Path) -> Path:
    return out.with_name(out.name + ".received.csv")


def request_kind(source: Source) -> str:
    """``linkage`` or ``inquiry``, by the request file's header (a stream is rewound after)."""
    source = plaintext(source)
    if isinstance(source, Path):
        with source.open("rb") as fh:
            head = fh.readline().decode("utf-8-sig", errors="replace")
    else:
        head = source.readline().decode("utf-8-sig", errors="replace")
        source.seek(0)
    if head.startswith("要求番号,個別業務システム利用番号,団体内統合利用番号"):
        return "inquiry"
    if head.startswith("要求番号,個別業務システム利用番号,個人番号"):
        return "linkage"
    raise ValueError("not a linkage-request or inquiry-request file (header)")
