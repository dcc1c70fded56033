"""After a run over a hostile corpus, no My Number lies in clear anywhere (issue 13 item 3; ADR 0020).

The corpus is the synthetic world (with the ``number_in_text`` fault) plus valid numbers planted in every
free-text and identifier field of every import — targets, procedures, kit, portal, linkage, inquiry and
Juki-net answers, the deletion list, the allow-list — and typed into every command option that takes text,
through the `jutaku` command on a child home. Then every database column (a logical dump), every file under
the home (outputs, logs and incident files, anchors, ledgers; not the key files, the ``.enc`` files and the
encrypted store) and every line a command printed are searched: for the planted numbers in every form they
were written in (:mod:`tests.functional.hostile_corpus`), for the world's true numbers, and for any valid
number at all (:func:`jutaku.domain.leakscan.scan`, which reads digests and ``K…`` receipts as identifiers).
No command may end in an internal error. Deterministic: every input comes from seeded generators.
"""

from __future__ import annotations

import csv
import random
import re
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pytest

from jutaku.domain import leakscan
from jutaku.sim.faults import FaultRates
from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import login_as, run_jutaku
from tests.functional.hostile_corpus import (
    Planted,
    home_files,
    plant_csv,
    plant_portal_receipt,
    plant_portal_text,
    read_rows,
    write_rows,
)
from tests.functional.test_no_plaintext_at_rest import database_dump, raw_database_files

pytestmark = pytest.mark.subprocess
INCOME = "JT99000000530001"


@dataclass
class Runs:
    """Every command run, with what it printed; none may end in an internal error (exit 1)."""

    printed: list[tuple[str, str]] = field(default_factory=list)  # (command, what it printed)
    internal: list[str] = field(default_factory=list)

    def __call__(self, env: dict[str, str], *args: str, input: str | None = None, ok: bool = False) -> str:
        proc = self.proc(env, *args, input=input)
        if ok:
            assert proc.returncode == 0, (args[:3], proc.stderr)
        return proc.stdout

    def code(self, env: dict[str, str], *args: str, input: str | None = None) -> int:
        return self.proc(env, *args, input=input).returncode

    def proc(self, env: dict[str, str], *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        proc = run_jutaku(env, *args, input=input)
        self.printed.append((" ".join(args[:3]), proc.stdout + proc.stderr))
        if proc.returncode == 1 or "内部エラー" in proc.stderr:
            self.internal.append(f"{args[:3]}: {proc.stderr[-300:]}")
        return proc


def plant_files(world: Path, planted: Planted) -> None:
    plant_csv(world / "targets.csv", planted, [(0, "住所", "append"), (1, "申込番号", "replace"),
                                               (2, "氏名", "append"), (3, "住宅コード", "replace"),
                                               (4, "世帯番号", "replace")])
    plant_csv(world / "procedures.csv", planted, [(0, "受付番号", "replace"), (1, "手続コード", "replace")])
    plant_csv(world / "kit.csv", planted, [(0, "受付番号", "replace"), (1, "氏名", "append"),
                                           (2, "氏名カナ", "append")])
    plant_portal_receipt(world / "portal.zip", planted, 0)
    for ordinal, element in ((1, "住所"), (2, "手続名"), (3, "電子証明書シリアル番号"), (4, "氏名")):
        plant_portal_text(world / "portal.zip", planted, ordinal, element)


def plant_answers(path: Path, planted: Planted, edits: dict[int, dict[str, str]]) -> None:
    """Edit answer rows; a value ``{}`` is replaced by a planted number (in turn of the written forms)."""
    header, rows = read_rows(path)
    for index, changes in edits.items():
        for column, value in changes.items():
            rows[index][column] = value.format(planted.number(f"{path.name}:{index + 2}:{column}")) \
                if "{}" in value else value
    write_rows(path, header, rows)


def test_a_hostile_corpus_leaves_no_number_in_clear(child_home: dict[str, str], tmp_path: Path) -> None:
    planted, run = Planted(random.Random(1303)), Runs()
    world = tmp_path / "world"
    build_world(WorldSpec(persons=300, seed=41, rates=FaultRates(number_in_text=0.05), kit_share=0.6,
                          portal_share=0.3, non_disclosure_rate=0.05), world)
    plant_files(world, planted)
    op = child_home  # registrar, inquirer, supervisor, auditor, operations
    admin, other = login_as(child_home, "security_admin"), login_as(child_home, "supervisor")
    named = tmp_path / f"targets-{planted.number('file name', form=1)}.csv"  # a file named with a number
    named.write_bytes((world / "targets.csv").read_bytes())

    # --- imports -------------------------------------------------------------------------------------
    run(op, "import", "targets", str(named), "--no-progress", ok=True)
    run(op, "import", "procedures", str(world / "procedures.csv"), "--no-progress", ok=True)
    run(op, "register", "kit", str(world / "kit.csv"), "--no-progress", ok=True)
    run(op, "register", "portal", str(world / "portal.zip"), "--no-progress", ok=True)
    run(op, "linkage", "request", "--out", str(tmp_path / "req.csv"), "--no-progress", ok=True)
    run(op, "sim", "linkage-server", "--world", str(world), str(tmp_path / "req.csv.enc"), str(tmp_path / "ans.csv"),
        ok=True)
    plant_answers(tmp_path / "ans.csv", planted, {
        0: {"結果コード": "9", "団体内統合利用番号": "", "エラー内容": "エラー {}"}, 1: {"要求番号": "{}"}})
    run(op, "linkage", "import", str(tmp_path / "ans.csv"), "--no-progress", ok=True)
    run(op, "inquiry", "create", "--procedure", INCOME, "--year", "2026", "--out", str(tmp_path / "inq.csv"),
        "--no-progress", ok=True)
    run(op, "sim", "linkage-server", "--world", str(world), str(tmp_path / "inq.csv.enc"),
        str(tmp_path / "inq-ans.csv"), ok=True)
    plant_answers(tmp_path / "inq-ans.csv", planted, {
        0: {"結果コード": "02", "結果データ": "", "未設定事由": "{}"},
        1: {"結果コード": "02", "結果データ": "", "未設定事由": "未設定（{}）"},
        2: {"要求番号": "{}"}, 3: {"結果データ": '{{"備考": "{}"}}'}})
    run(op, "inquiry", "import", str(tmp_path / "inq-ans.csv"), "--no-progress", ok=True)
    run(op, "juki", "request", "--year", "2026", "--out", str(tmp_path / "juki.csv"), "--no-progress", ok=True)
    run(op, "sim", "juki", "--world", str(world), str(tmp_path / "juki.csv.enc"), str(tmp_path / "juki-ans.csv"),
        ok=True)
    plant_answers(tmp_path / "juki-ans.csv", planted, {
        0: {"住所": "東京都 {}"}, 1: {"氏名": "都営 {}"}, 2: {"照会番号": "{}"}})
    run(op, "juki", "import", str(tmp_path / "juki-ans.csv"), "--no-progress", ok=True)
    allowlist = resources.files("jutaku.data").joinpath("allowlist.csv").read_text(encoding="utf-8-sig")
    first, rest = allowlist.split("\n", 1)
    hostile = first + "\n" + rest.replace("番号法", f"番号法（{planted.number('allowlist legal_basis')}）", 1)
    (tmp_path / "allowlist.csv").write_text(hostile, encoding="utf-8")
    run(op, "allowlist", "load", str(tmp_path / "allowlist.csv"))

    # --- commands and their text options ------------------------------------------------------------------
    _, people = read_rows(world / "targets.csv")
    person = people[10]["個人ID"]
    ledger = run(op, "media", "list", ok=True)
    entry = re.findall(r"^ *(\d+) ", ledger, flags=re.MULTILINE)[0]
    (tmp_path / "deletion.csv").write_text(f"個人ID,削除理由\r\n{person},9\r\n", encoding="utf-8")
    (tmp_path / "deletion-bad.csv").write_text(f"個人ID,削除理由\r\n{planted.number('deletion list', plain=True)},9\r\n",
                                               encoding="utf-8")
    recorded = run(op, "requests", "record", "--person", person, "--kind", "suspension", ok=True)
    request_id = re.search(r"#(\d+)", recorded)
    open_request = re.search(r"#(\d+)", run(op, "requests", "record", "--person", person, "--kind", "correction",
                                            ok=True))
    assert request_id is not None and open_request is not None
    run(op, "requests", "handle", request_id.group(1), ok=True)

    def n(where: str, form: int | None = None) -> str:
        return planted.number(where, form=form)

    commands: list[tuple[dict[str, str], tuple[str, ...], str | None]] = [
        (op, ("export", "business", "request", "--procedure", INCOME, "--year", "2026", "--reason", n("export")), None),
        (op, ("export", "business", "request", "--procedure", n("export procedure", 0), "--year", "2026",
              "--reason", "家賃算定"), None),
        (op, ("delete", "request", str(tmp_path / "deletion.csv"), "--reason", f"退去 {n('deletion reason')}"), None),
        (op, ("delete", "request", str(tmp_path / "deletion-bad.csv"), "--reason", "退去"), None),
        (op, ("numbers", "change", person, "--reason", n("change reason")), "123456789018\n"),
        (op, ("numbers", "change", person, "--reason", "変更届", "--receipt-no", n("change receipt", 0)),
         "123456789018\n"),
        (op, ("numbers", "change", n("change person", 0), "--reason", "変更届"), "123456789018\n"),
        (op, ("persons", "non-disclosure", "set", person, "--reason", f"本人の申出 {n('nd set')}"), None),
        (op, ("persons", "non-disclosure", "set", n("nd person", 0), "--reason", "本人の申出"), None),
        (op, ("persons", "non-disclosure", "clear", person, "--reason", f"解除 {n('nd clear')}"), None),
        (op, ("persons", "correct-status", person, "--status", "1", "--reason", f"訂正 {n('status')}"), None),
        (op, ("requests", "record", "--person", person, "--kind", "disclosure", "--note", n("request note")), None),
        (op, ("requests", "record", "--person", n("request person", 0), "--kind", "disclosure"), None),
        (op, ("requests", "handle", open_request.group(1), "--note", n("handle note")), None),
        (op, ("requests", "lift", request_id.group(1), "--reason", f"取下げ {n('lift')}"), None),
        (op, ("media", "handover", entry, "--medium", n("medium", 0), "--carrier", "佐藤 健"), None),
        (op, ("media", "handover", entry, "--medium", "USB-01", "--carrier", f"佐藤 {n('carrier', 1)}"), None),
        (op, ("media", "erased", entry, "--medium", n("erased medium", 1)), None),
        (op, ("allowlist", "load", str(tmp_path / "allowlist.csv"), "--note", n("allowlist note")), None),
        (op, ("allowlist", "show", "--procedure", n("allowlist procedure", 0)), None),
        (op, ("inquiry", "create", "--procedure", n("inquiry procedure", 0), "--year", "2026",
              "--out", str(tmp_path / "inq2.csv")), None),
        (op, ("audit", "list", "--object", n("audit object", 0)), None),
        (op, ("audit", "list", "--user", n("audit user", 0)), None),
        (op, ("jobs", "list", "--kind", n("jobs kind", 0)), None),
        (op, ("stats", "--out", str(tmp_path / f"stats-{n('stats out', 1)}.csv")), None),
        (op, ("delete", "propose", "--out", str(tmp_path / f"{n('propose out', 0)}.csv")), None),
        (admin, ("users", "create", "tanaka.h", "--full-name", f"田中 {n('full name')}", "--staff-id", "B2001",
                 "--org", "bureau", "--role", "registrar", "--end", "2030-03-31"), "Jutaku-Str0ng-Pass!\n" * 2),
        (admin, ("users", "create", "tanaka.h", "--full-name", "田中 博", "--staff-id", n("staff id", 0),
                 "--org", "bureau", "--role", "registrar", "--end", "2030-03-31"), "Jutaku-Str0ng-Pass!\n" * 2),
        (admin, ("users", "create", f"u-{n('username', 1)}", "--full-name", "田中 博", "--staff-id", "B2002",
                 "--org", "bureau", "--role", "registrar", "--end", "2030-03-31"), "Jutaku-Str0ng-Pass!\n" * 2),
        (admin, ("users", "disable", "as.sup", "--reason", n("disable reason")), None),
        (admin, ("users", "unlock", "as.sup", "--reason", n("unlock reason")), None),
        (admin, ("users", "reset-mfa", "as.sup", "--reason", n("mfa reason")), None),
        (admin, ("users", "roles", "as.sup", "--role", "supervisor", "--reason", n("roles reason")), None),
        (admin, ("users", "disable", n("disable user", 0), "--reason", "退職"), None),
        (admin, ("terminals", "add", n("terminal name", 0), "10.9.9.9"), None),
        (admin, ("terminals", "add", "窓口端末", n("terminal address", 0)), None),
        (other, ("login", "--user", n("login user", 0)), "password\n000000\n"),
    ]
    answered = [(" ".join(args[:2]), run.code(env, *args, input=stdin)) for env, args, stdin in commands]
    # Each is refused (exit 2), but the searches that keep nothing and the sign-in, which fails (exit 3).
    assert [(k, v) for k, v in answered if v != 2] == [("allowlist show", 0), ("jobs list", 0), ("login --user", 3)]
    run(admin, "approvals", "list", ok=True)
    run(op, "audit", "list", "--limit", "10000", ok=True)
    run(op, "media", "list", ok=True)
    run(op, "jobs", "list", ok=True)

    # --- nothing ended in an internal error, nothing was kept or echoed --------------------------------
    assert run.internal == []
    with (world / "truth" / "juki.csv").open(encoding="utf-8", newline="") as fh:
        truth = [row["個人番号"] for row in csv.DictReader(fh)]
    echoed = [(command, planted.found_in(text.encode("utf-8")), leakscan.contains_any(text.encode("utf-8"), truth))
              for command, text in run.printed]
    leaks = [(command, where) for command, where, true in echoed if where or true]
    assert leaks == [], "\n".join(map(str, leaks))

    dump = database_dump(child_home)
    assert b"registry_importrejection" in dump and b"accounts_approval" in dump  # the scan saw real tables
    assert planted.found_in(dump) == []
    assert leakscan.contains_any(dump, truth) == set()
    assert list(leakscan.scan(dump)) == []
    if "JUTAKU_DATABASE_URL" not in child_home:
        assert leakscan.contains_any(raw_database_files(child_home), planted.numbers + truth) == set()

    home = Path(child_home["JUTAKU_HOME"])
    scanned = list(home_files(home))
    assert any(p.name.startswith("rejections-") for p in scanned) and any("audit" in str(p) for p in scanned)
    for path in scanned:
        data = path.read_bytes()
        assert planted.found_in(data) == [], path.relative_to(home)
        assert leakscan.contains_any(data, truth) == set(), path.relative_to(home)
        assert list(leakscan.scan(data)) == [], path.relative_to(home)
    assert not list((home / "logs").glob("incident-*")) if (home / "logs").exists() else True
