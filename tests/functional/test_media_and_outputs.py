"""The PIA's promises on files (issue 12 items 3 and 4), through the command line, SQLite or PostgreSQL:

- files that leave the system with specific personal information are encrypted unless a person explicitly
  says otherwise (``--plain``, audited), and every file the system writes is 0600;
- the media ledger records the medium, who carried it and the erasure from it, and lists what was never
  confirmed erased;
- outputs do not outlive their retention: they are purged at the start of the next command, counted and
  audited; ``jutaku outputs list|purge``.
"""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from jutaku.domain import leakscan
from jutaku.sim.linkage import integrated_number
from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import child_query, login_as, run_jutaku

pytestmark = pytest.mark.subprocess
INCOME = "JT99000000530001"
SEED = 23


def _prepared(env: dict[str, str], tmp_path: Path, persons: int = 300) -> Path:
    """Targets, procedures and kit numbers loaded, integrated numbers obtained (the linkage request is
    encrypted by default and read by the simulated server with the home's media key)."""
    world = tmp_path / "world"
    build_world(WorldSpec(persons=persons, seed=SEED), world)
    for step, name in (("targets", "targets.csv"), ("procedures", "procedures.csv")):
        run_jutaku(env, "import", step, str(world / name), "--no-progress", check=True)
    run_jutaku(env, "register", "kit", str(world / "kit.csv"), "--no-progress", check=True)
    out = tmp_path / "out"
    run_jutaku(env, "linkage", "request", "--out", str(out / "req.csv"), "--no-progress", check=True)
    run_jutaku(env, "sim", "linkage-server", "--world", str(world), str(out / "req.csv.enc"), str(out / "req-ans.csv"),
               check=True)
    run_jutaku(env, "linkage", "import", str(out / "req-ans.csv"), "--no-progress", check=True)
    return world


def _approved_export(env: dict[str, str], inquirer: dict[str, str], supervisor: dict[str, str]) -> str:
    asked = run_jutaku(inquirer, "export", "business", "request", "--procedure", INCOME, "--year", "2026",
                       "--reason", "家賃算定", check=True).stdout
    approval = asked.split("#", 1)[1].split(" ", 1)[0]
    run_jutaku(supervisor, "approvals", "approve", approval, check=True)
    return approval


def _ledger(env: dict[str, str], interface: str) -> list[tuple[str, int]]:
    return [(str(name), int(encrypted)) for name, encrypted in child_query(
        env, f"SELECT file_name, encrypted FROM exchange_medialedgerentry WHERE interface = '{interface}' "
             "AND direction = 'write' ORDER BY id")]


def test_specific_personal_information_leaves_encrypted_unless_plain_is_asked_and_every_file_is_0600(
        child_home: dict[str, str], tmp_path: Path) -> None:
    world = _prepared(child_home, tmp_path)
    out = tmp_path / "out"
    # The inquiry file carries integrated numbers: <out>.enc by default, nothing in clear beside it.
    made = run_jutaku(child_home, "inquiry", "create", "--procedure", INCOME, "--year", "2026",
                      "--out", str(out / "inq.csv"), "--no-progress", check=True).stdout
    enc = out / "inq.csv.enc"
    assert "inq.csv.enc" in made and enc.exists() and not (out / "inq.csv").exists()
    truth = [line.split(",")[0] for line in (world / "targets.csv").read_text(encoding="utf-8-sig").splitlines()[1:]]
    assert not leakscan.contains_any(enc.read_bytes(), [integrated_number(SEED, pid) for pid in truth])
    assert _ledger(child_home, "inquiry-request") == [("inq.csv.enc", 1)]
    run_jutaku(child_home, "sim", "linkage-server", "--world", str(world), str(enc), str(out / "inq-ans.csv"),
               check=True)
    run_jutaku(child_home, "inquiry", "import", str(out / "inq-ans.csv"), "--no-progress", check=True)

    # The business export (tax, welfare, disability): encrypted by default; --plain is the audited exception.
    inquirer, supervisor = login_as(child_home, "inquirer"), login_as(child_home, "supervisor")
    first = _approved_export(child_home, inquirer, supervisor)
    run_jutaku(inquirer, "export", "business", "run", first, "--out", str(out / "biz.csv"), check=True)
    assert (out / "biz.csv.enc").exists() and not (out / "biz.csv").exists()
    second = _approved_export(child_home, inquirer, supervisor)
    run_jutaku(inquirer, "export", "business", "run", second, "--out", str(out / "biz-plain.csv"), "--plain",
               check=True)
    assert (out / "biz-plain.csv").read_text(encoding="utf-8").startswith("個人ID,")
    assert _ledger(child_home, "business-export") == [("biz.csv.enc", 1), ("biz-plain.csv", 0)]
    plain = child_query(child_home, "SELECT username, outcome, detail FROM audit_record WHERE event = 'media:plain'")
    assert [(u, o, json.loads(d)["file"]) for u, o, d in plain] == [("as.inq", "business-export", "biz-plain.csv")]

    # Every other kind of file the system writes: lists, reports, charts, checkpoint, disclosure report.
    pid = truth[0]
    asked = run_jutaku(child_home, "requests", "record", "--person", pid, "--kind", "disclosure", check=True).stdout
    request_id = re.search(r"#(\d+)", asked).group(1)  # type: ignore[union-attr]
    for args in (("requests", "disclose", request_id, "--out", str(out / "disclosure.html")),
                 ("requests", "disclose", request_id, "--out", str(out / "disclosure-print.html"), "--plain"),
                 ("delete", "propose", "--out", str(out / "proposal.csv")),
                 ("stats", "--out", str(out / "stats.csv"), "--plots", str(out / "plots")),
                 ("users", "review", "--out", str(out / "review.csv")),
                 ("audit", "checkpoint", "--out", str(out / "checkpoint.txt"))):
        run_jutaku(child_home, *args, check=True)
    home = Path(child_home["JUTAKU_HOME"])
    written = [p for folder in (home, out) for p in folder.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"disclosure.html.enc", "disclosure-print.html", "proposal.csv.manifest.json", "registration-progress.svg",
                                         "review.html", "review.csv", "checkpoint.txt", "stats.csv"}
    for prefix in ("rejections-register-kit-", "rejections-inquiry-create-"):
        assert any(p.name.startswith(prefix) for p in written), prefix
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in written if stat.S_IMODE(p.stat().st_mode) != 0o600} \
        == {}


def test_the_media_ledger_records_medium_carrier_and_erasure_and_lists_what_was_never_erased(
        child_home: dict[str, str], tmp_path: Path) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=60, seed=SEED), world)
    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    run_jutaku(child_home, "register", "kit", str(world / "kit.csv"), "--no-progress", check=True)
    run_jutaku(child_home, "linkage", "request", "--out", str(tmp_path / "req.csv"), "--no-progress", check=True)
    [(kit,)] = child_query(child_home, "SELECT id FROM exchange_medialedgerentry WHERE interface = 'kit'")
    [(req,)] = child_query(child_home, "SELECT id FROM exchange_medialedgerentry WHERE interface = 'linkage-request'")

    unerased = run_jutaku(child_home, "media", "list", "--unerased", check=True).stdout
    assert "kit.csv" in unerased and "req.csv.enc" in unerased and "未確認" in unerased
    assert "媒体からの消去が未確認の記録: 2 件" in unerased
    assert "targets.csv" not in unerased  # personal, not specific: no erasure to confirm

    run_jutaku(child_home, "media", "handover", str(req), "--medium", "USB-0042", "--carrier", "佐藤 健（指導管理課）",
               check=True)
    wrong = run_jutaku(child_home, "media", "erased", str(req), "--medium", "USB-0099")
    assert wrong.returncode == 2 and "M03" in wrong.stderr
    auditor = login_as(child_home, "auditor")
    assert run_jutaku(auditor, "media", "erased", str(req), "--medium", "USB-0042").returncode == 3
    run_jutaku(child_home, "media", "erased", str(req), str(kit), "--medium", "USB-0042", check=True)
    assert "媒体からの消去が未確認の記録: 0 件" in run_jutaku(child_home, "media", "list", "--unerased",
                                                               check=True).stdout
    listed = run_jutaku(auditor, "media", "list", check=True).stdout  # the auditor reads the whole ledger
    assert re.search(rf"^ *{req}  .*  req\.csv\.enc  .*  USB-0042  佐藤 健（指導管理課）  済 ", listed, re.M)
    assert "統合利用番号取得要求" in listed and "linkage-request" not in listed  # the interface by name
    rows = child_query(child_home, "SELECT media_id, carrier, handed_over_by, erased_by FROM "
                                   f"exchange_medialedgerentry WHERE id = {req}")
    assert rows == [("USB-0042", "佐藤 健（指導管理課）", "op.multi", "op.multi")]
    events = [e for (e,) in child_query(child_home, "SELECT event FROM audit_record WHERE event LIKE 'media:%' "
                                                    "AND event NOT IN ('media:read', 'media:write') ORDER BY seq")]
    assert events == ["media:handover", "media:erase", "media:erase"]


def test_outputs_are_purged_at_the_next_command_once_their_retention_has_passed(
        child_home: dict[str, str], tmp_path: Path) -> None:
    kept, due = tmp_path / "kept.csv", tmp_path / "due.csv"
    run_jutaku(child_home, "stats", "--out", str(kept), check=True)  # default retention: 3 days
    # An injected retention of 0 days: due at the start of the next command.
    run_jutaku({**child_home, "JUTAKU_OUTPUT_RETENTION_DAYS": "0"}, "stats", "--out", str(due), check=True)
    assert due.exists() and kept.exists()
    listed = run_jutaku(child_home, "outputs", "list", check=True).stdout  # any command purges first
    assert not due.exists() and not (tmp_path / "due.csv.manifest.json").exists()
    assert kept.exists() and str(kept) in listed and str(due) not in listed
    [(detail,)] = child_query(child_home, "SELECT detail FROM audit_record WHERE event = 'output:purge'")
    assert json.loads(detail) == {"files": 2, "missing": 0, "changed": 0}
    assert "期限切れで削除" in run_jutaku(child_home, "outputs", "list", "--all", check=True).stdout

    # Before its time, only the user who wrote a file may remove it.
    [(output_id,)] = child_query(child_home, "SELECT id FROM exchange_outputfile WHERE name = 'kept.csv'")
    other = login_as(child_home, "registrar")
    refused = run_jutaku(other, "outputs", "purge", "--file", str(output_id))
    assert refused.returncode == 2 and "作成した本人" in refused.stderr and kept.exists()
    assert run_jutaku(login_as(child_home, "auditor"), "outputs", "purge").returncode == 3
    done = run_jutaku(child_home, "outputs", "purge", "--file", str(output_id), check=True).stdout
    assert "期限前に削除" in done and not kept.exists()
    assert run_jutaku(child_home, "outputs", "purge", check=True).returncode == 0
