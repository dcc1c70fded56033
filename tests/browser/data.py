"""Synthetic worlds for the browser journeys, and the checks on what the screens hand out.

Everything here is set-up or inspection done the way the CLI or the functional tests do it (the services,
the simulator's answer key); the journeys themselves go through the screens.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

INCOME = "JT99000000530001"


def world(out: Path, *, persons: int, seed: int) -> Path:
    from jutaku.sim.world import WorldSpec, build_world

    build_world(WorldSpec(persons=persons, seed=seed), out)
    return out


def rows_of(data: bytes | Path) -> list[dict[str, str]]:
    text = (data.read_bytes() if isinstance(data, Path) else data).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def kit_answers(world_dir: Path) -> list[dict[str, str]]:
    """The answer key's rows for kit.csv: the outcome the rules give each row (ファイル, 行番号, 受付番号,
    個人ID, 期待結果), computed by the simulator independently of the system under test."""
    return [r for r in rows_of(world_dir / "answers.csv") if r["ファイル"] == "kit.csv"]


def true_numbers(world_dir: Path) -> set[str]:
    """Every person's real (synthetic) My Number, from the world's truth."""
    return {r["個人番号"] for r in rows_of(world_dir / "truth" / "juki.csv")}


def valid_numbers_in(text: str) -> list[str]:
    """Every valid My Number written in ``text`` (the project's leak scanner: ASCII, 4-4-4 and full-width;
    a hex digest is not a number)."""
    from jutaku.domain import leakscan

    return [f.digits for f in leakscan.scan_text(text)]


def leaked(data: bytes | str, world_dir: Path) -> list[str]:
    """Valid My Numbers in ``data``, and any person's number of the world in whatever form."""
    from jutaku.domain import leakscan

    raw = data.encode() if isinstance(data, str) else data
    found = set(valid_numbers_in(raw.decode("utf-8-sig", errors="replace")))
    return sorted(found | leakscan.contains_any(raw, true_numbers(world_dir)))


def registered(world_dir: Path) -> None:
    """The register, filings and numbers loaded through the services (as `jutaku import` and
    `jutaku register kit` would); linkage not yet run."""
    from jutaku.accounts.actor import SYSTEM
    from jutaku.registry.procedures import import_procedures
    from jutaku.registry.registration import register_numbers
    from jutaku.registry.targets import import_targets

    import_targets(world_dir / "targets.csv", actor=SYSTEM, progress=False)
    import_procedures(world_dir / "procedures.csv", actor=SYSTEM, progress=False)
    register_numbers(world_dir / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)


def moved_out(world_dir: Path, tmp: Path, *, every: int = 3, most: int = 24) -> set[str]:
    """The housing system reports some residents holding a number as moved out (状態 2, a month ago), as
    tests/integration/web/test_deletion.py does; returns their 個人ID."""
    from django.utils import timezone

    from jutaku.accounts.actor import SYSTEM
    from jutaku.formats.csvio import write_csv
    from jutaku.formats.layouts import TARGETS
    from jutaku.registry.models import MyNumberRecord
    from jutaku.registry.targets import import_targets

    holders = set(MyNumberRecord.objects.filter(person__status="1").values_list("person__person_id", flat=True))
    leaving = [t for t in rows_of(world_dir / "targets.csv") if t["個人ID"] in holders][:most:every]
    day = (timezone.localdate() - timedelta(days=30)).strftime("%Y%m%d")
    for target in leaving:
        target.update(状態="2", 状態日付=day)
    write_csv(tmp / "moves.csv", TARGETS, leaving)
    import_targets(tmp / "moves.csv", actor=SYSTEM, progress=False)
    return {t["個人ID"] for t in leaving}


def renamed(answers: Path) -> str:
    """Make one family-register answer report a name change the register lacks (so the import has a
    notice to give); returns that person's 個人ID."""
    from jutaku.formats.csvio import write_csv
    from jutaku.formats.layouts import INQUIRY_RESULT_LAYOUT
    from jutaku.linkage.models import InquiryRequest

    rows = rows_of(answers)
    row = next(r for r in rows if r["結果コード"] == "00" and r["特定個人情報名コード"].endswith("07"))
    data = json.loads(row["結果データ"])
    row["結果データ"] = json.dumps({**data, "氏名変更の有無": "1", "変更後氏名": "改姓 花子"}, ensure_ascii=False)
    write_csv(answers, INQUIRY_RESULT_LAYOUT, rows)
    return str(InquiryRequest.objects.get(request_no=row["要求番号"]).person.person_id)


def outcome_table(cells: list[list[str]]) -> Counter[str]:
    """{code: count} of the outcome table's rows (コード, 内容, 件数)."""
    return Counter({code: int(count.replace(",", "")) for code, _, count in cells})
