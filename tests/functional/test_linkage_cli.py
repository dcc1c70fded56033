"""`jutaku allowlist` and `jutaku linkage` through the command line, with the simulated linkage server
in between (child processes, SQLite or PostgreSQL as the tier says)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jutaku.domain import leakscan
from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import child_query, login_as, run_jutaku

pytestmark = pytest.mark.subprocess


def media_plaintext(env: dict[str, str], path: Path) -> bytes:
    """An encrypted file of a child home, decrypted in memory under that home's media key."""
    from jutaku.crypto.keyring import KeyRing
    from jutaku.crypto.media import open_media

    with open_media(path, KeyRing.load(Path(env["JUTAKU_HOME"]) / "keys", production=False).media_key) as fh:
        return bytes(fh.read())


def test_the_linkage_cycle_from_the_command_line(child_home: dict[str, str], tmp_path: Path) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=300, seed=8), world)
    # `jutaku init` loaded the packaged allow-list; anyone with allowlist:view can read its legal basis.
    shown = run_jutaku(child_home, "allowlist", "show", "--procedure", "JT99000000530001", check=True).stdout
    assert "番号法19条8号" in shown and "推定" in shown
    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    run_jutaku(child_home, "register", "kit", str(world / "kit.csv"), "--no-progress", check=True)

    req = tmp_path / "req.csv"
    out = run_jutaku(child_home, "linkage", "request", "--out", str(req), "--no-progress", check=True).stdout
    # The file holds My Numbers: it is written encrypted unless --plain is asked for.
    enc = tmp_path / "req.csv.enc"
    assert "req.csv.enc" in out and enc.exists() and not req.exists()
    assert (tmp_path / "req.csv.manifest.json").exists()
    truth = [line.split(",")[1] for line in (world / "truth" / "juki.csv").read_text(encoding="utf-8").splitlines()[1:]]
    assert not list(leakscan.scan(enc.read_bytes())) and not leakscan.contains_any(enc.read_bytes(), truth)
    ans = tmp_path / "ans.csv"
    run_jutaku(child_home, "sim", "linkage-server", "--world", str(world), str(enc), str(ans),
               "--not-found-rate", "0.1", check=True)
    done = run_jutaku(child_home, "linkage", "import", str(ans), "--no-progress", check=True).stdout
    assert "N01" in done and "要確認リスト" in done
    [(linked,)] = child_query(child_home, "SELECT count(*) FROM linkage_integratednumber")
    [(answered,)] = child_query(child_home, "SELECT count(*) FROM linkage_linkagerequest WHERE state = 'answered'")
    assert linked == answered > 0
    [(events,)] = child_query(child_home, "SELECT count(*) FROM audit_record WHERE event = 'linkage:store'")
    assert events == linked


def test_a_registrar_may_not_run_linkage_and_an_inquirer_may_not_load_the_allow_list(
        child_home: dict[str, str], tmp_path: Path) -> None:
    registrar = login_as(child_home, "registrar")
    proc = run_jutaku(registrar, "linkage", "request", "--out", str(tmp_path / "r.csv"))
    assert proc.returncode == 3 and not (tmp_path / "r.csv").exists()
    inquirer = login_as(child_home, "inquirer")
    (tmp_path / "a.csv").write_text("x", encoding="utf-8")
    assert run_jutaku(inquirer, "allowlist", "load", str(tmp_path / "a.csv")).returncode == 3


def test_the_income_declaration_inquiry_from_the_command_line(child_home: dict[str, str], tmp_path: Path) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=300, seed=19), world)
    for step, name in (("targets", "targets.csv"), ("procedures", "procedures.csv")):
        run_jutaku(child_home, "import", step, str(world / name), "--no-progress", check=True)
    run_jutaku(child_home, "register", "kit", str(world / "kit.csv"), "--no-progress", check=True)
    run_jutaku(child_home, "linkage", "request", "--out", str(tmp_path / "req.csv"), "--no-progress", check=True)
    run_jutaku(child_home, "sim", "linkage-server", "--world", str(world), str(tmp_path / "req.csv.enc"),
               str(tmp_path / "ans.csv"), check=True)
    run_jutaku(child_home, "linkage", "import", str(tmp_path / "ans.csv"), "--no-progress", check=True)

    refused = run_jutaku(child_home, "inquiry", "create", "--procedure", "JT99999999999999", "--year", "2026",
                         "--out", str(tmp_path / "x.csv"))
    assert refused.returncode == 2 and "許可リスト" in refused.stderr and not (tmp_path / "x.csv").exists()
    made = run_jutaku(child_home, "inquiry", "create", "--procedure", "JT99000000530001", "--year", "2026",
                      "--out", str(tmp_path / "inq.csv"), "--no-progress", check=True).stdout
    assert "情報照会要求" in made and "照会対象外リスト" in made  # kit-only world: portal persons have no number
    # Integrated numbers: the file is encrypted by default (issue 12 item 3); the linkage server holds the key.
    assert (tmp_path / "inq.csv.enc").exists() and not (tmp_path / "inq.csv").exists()
    run_jutaku(child_home, "sim", "linkage-server", "--world", str(world), str(tmp_path / "inq.csv.enc"),
               str(tmp_path / "inq-ans.csv"), "--error-rate", "0.05", check=True)
    done = run_jutaku(child_home, "inquiry", "import", str(tmp_path / "inq-ans.csv"), "--no-progress",
                      check=True).stdout
    assert "OK" in done and "N09" in done and "要確認リスト" in done
    [(stored,)] = child_query(child_home, "SELECT count(*) FROM linkage_inquiryresult")
    [(sent,)] = child_query(child_home, "SELECT count(*) FROM linkage_inquiryrequest")
    assert stored == sent > 0
    again = run_jutaku(child_home, "inquiry", "import", str(tmp_path / "inq-ans.csv"), "--no-progress", check=True)
    assert "取込済み" in again.stdout

    # The business export: requested by an inquirer, approved by a different supervisor, run once.
    inquirer, supervisor = login_as(child_home, "inquirer"), login_as(child_home, "supervisor")
    asked = run_jutaku(inquirer, "export", "business", "request", "--procedure", "JT99000000530001", "--year",
                       "2026", "--reason", "家賃算定", check=True).stdout
    approval = asked.split("#", 1)[1].split(" ", 1)[0]
    out = tmp_path / "business.csv"
    assert run_jutaku(inquirer, "export", "business", "run", approval, "--out", str(out)).returncode == 2
    assert run_jutaku(inquirer, "approvals", "approve", approval).returncode in (2, 3)  # not their own
    run_jutaku(supervisor, "approvals", "approve", approval, check=True)
    done = run_jutaku(inquirer, "export", "business", "run", approval, "--out", str(out), check=True).stdout
    enc = tmp_path / "business.csv.enc"  # tax, welfare, disability: encrypted by default (issue 12 item 3)
    assert "業務システム連携" in done and enc.exists() and not out.exists()
    assert not list(leakscan.scan(media_plaintext(child_home, enc)))
    assert run_jutaku(inquirer, "export", "business", "run", approval, "--out", str(out)).returncode == 2
    [(ledger,)] = child_query(child_home, "SELECT count(*) FROM exchange_medialedgerentry "
                                          "WHERE interface = 'business-export' AND direction = 'write'")
    assert ledger == 1


def test_juki_net_from_the_command_line(child_home: dict[str, str], tmp_path: Path) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=600, seed=29), world)
    for step, name in (("targets", "targets.csv"), ("procedures", "procedures.csv")):
        run_jutaku(child_home, "import", step, str(world / name), "--no-progress", check=True)
    run_jutaku(child_home, "register", "kit", str(world / "kit.csv"), "--no-progress", check=True)
    sent = run_jutaku(child_home, "juki", "request", "--year", "2026", "--out", str(tmp_path / "juki.csv"),
                      "--no-progress", check=True).stdout
    enc = tmp_path / "juki.csv.enc"
    assert "住基ネット照会" in sent and enc.exists() and not (tmp_path / "juki.csv").exists()
    run_jutaku(child_home, "sim", "juki", "--world", str(world), str(enc), str(tmp_path / "ans.csv"), check=True)
    done = run_jutaku(child_home, "juki", "import", str(tmp_path / "ans.csv"), "--no-progress", check=True).stdout
    assert "OK" in done and "D01" in done and "届出勧奨リスト" in done
    [(answered,)] = child_query(child_home, "SELECT count(*) FROM juki_jukiresult")
    [(queried,)] = child_query(child_home, "SELECT count(*) FROM juki_jukiquery")
    assert answered == queried > 0
    again = run_jutaku(child_home, "juki", "import", str(tmp_path / "ans.csv"), "--no-progress", check=True).stdout
    assert "取込済み" in again
