"""A DV victim's wish is never lost, whatever path it comes by (issue 12 item 1; seed ⑦-1, ⑦-2, IV-3).

Through the command line (child processes, SQLite or PostgreSQL as the tier says):

- a Mynaportal application with ``<不開示希望>1`` sets the person's sticky flag, and the next inquiry file
  carries 不開示コード 2 for that person — even when the application's number is rejected;
- its ``<照会同意>1`` is recorded with its source (受付番号, 受付日時) and honoured by the inquiry rules;
- a registrar sets the flag with ``jutaku persons non-disclosure set`` and the next file (a new filing of
  that person) carries 2;
- clearing needs a supervisor's request and a *different* supervisor's approval; both are audited.

Juki-net: the juki-request layout (interfaces.md) has no 不開示コード column. 不開示 hides the history of
inquiries through the information-provision network from Mynaportal; a Juki-net identity query is not such
an inquiry, so the promise is carried by the inquiry-request file (see the report of issue 12).
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from pathlib import Path

import pytest

from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import PROCEDURES
from jutaku.sim.world import WorldSpec, build_world
from tests.conftest import child_query, login_as, run_jutaku

pytestmark = pytest.mark.subprocess
INCOME = "JT99000000530001"


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _set(text: str, element: str, value: str) -> str:
    text, n = re.subn(f"<{element}>[^<]*</{element}>", f"<{element}>{value}</{element}>", text)
    assert n == 1
    return text


def rewrite_portal(world: Path, changes: dict[str, dict[str, str]], added: list[dict[str, str]] = ()) -> None:  # type: ignore[assignment]
    """Set elements of some applications (by 受付番号) in the world's portal.zip and add applications
    (element → value, on a copy of the first one); the rest unchanged."""
    src = world / "portal.zip"
    entries = []
    with zipfile.ZipFile(src) as archive:
        for info in archive.infolist():
            text = archive.read(info).decode("utf-8")
            for element, value in changes.get(info.filename.removesuffix(".xml"), {}).items():
                text = _set(text, element, value)
            entries.append((info.filename, text))
    for values in added:
        text = entries[0][1]
        for element, value in values.items():
            text = _set(text, element, value)
        entries.append((f"{values['受付番号']}.xml", text))
    with zipfile.ZipFile(src, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in entries:
            archive.writestr(name, text.encode("utf-8"))


def pick(world: Path) -> dict[str, dict[str, str]]:
    """Persons for each path, each with an income-declaration filing of 2026 without the wish."""
    filings: dict[str, list[dict[str, str]]] = {}
    for f in rows_of(world / "procedures.csv"):
        if f["手続コード"] == INCOME and f["年度"] == "2026":
            filings.setdefault(f["対象者個人ID"], []).append(f)
    no_wish = {pid for pid, fs in filings.items() if all(f["不開示希望"] == "0" for f in fs)}
    consented = {pid for pid in no_wish if any(f["照会同意"] == "1" for f in filings[pid])}
    answers = [a for a in rows_of(world / "answers.csv") if a["期待結果"] == "OK"]
    portal = [a for a in answers if a["ファイル"] == "portal.zip"]
    kit = [a for a in answers if a["ファイル"] == "kit.csv" and a["個人ID"] in consented]
    return {"portal_wish": next(a for a in portal if a["個人ID"] in consented),
            "portal_consent": next(a for a in portal if a["個人ID"] in no_wish - consented),
            "manual": kit[0], "other": kit[1], "rejected_wish": kit[2]}


def second_application(world: Path, person_id: str) -> dict[str, str]:
    """A later portal application of a kit-registered person with *another* valid number (E05) and the wish."""
    from jutaku.domain.my_number import from_body

    person = next(r for r in rows_of(world / "targets.csv") if r["個人ID"] == person_id)
    return {"受付番号": "202605010001", "受付日時": "20260501093000000", "個人ID": person_id,
            "氏名": person["氏名"], "氏名カナ": person["氏名カナ"], "生年月日": person["生年月日"],
            "性別": person["性別"], "個人番号": from_body("97531864201"), "照会同意": "1", "不開示希望": "1"}


def cycle_until_inquiry(env: dict[str, str], world: Path, tmp_path: Path) -> list[dict[str, str]]:
    for step, name in (("targets", "targets.csv"), ("procedures", "procedures.csv")):
        run_jutaku(env, "import", step, str(world / name), "--no-progress", check=True)
    run_jutaku(env, "register", "kit", str(world / "kit.csv"), "--no-progress", check=True)
    run_jutaku(env, "register", "portal", str(world / "portal.zip"), "--no-progress", check=True)
    run_jutaku(env, "linkage", "request", "--out", str(tmp_path / "req.csv"), "--no-progress", check=True)
    run_jutaku(env, "sim", "linkage-server", "--world", str(world), str(tmp_path / "req.csv.enc"),
               str(tmp_path / "ans.csv"), check=True)
    run_jutaku(env, "linkage", "import", str(tmp_path / "ans.csv"), "--no-progress", check=True)
    return inquiry_file(env, tmp_path / "inq.csv")


def inquiry_file(env: dict[str, str], out: Path) -> list[dict[str, str]]:
    """The inquiry file, written plain for the test to read what went out (the default is .enc)."""
    run_jutaku(env, "inquiry", "create", "--procedure", INCOME, "--year", "2026", "--out", str(out), "--no-progress",
               "--plain", check=True)
    return rows_of(out)


def codes_by_person(sent: list[dict[str, str]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for r in sent:
        found.setdefault(r["個別業務システム利用番号"], set()).add(r["不開示コード"])
    return found


def test_every_path_of_the_wish_reaches_the_inquiry_file_and_the_portal_consent_counts(
        child_home: dict[str, str], tmp_path: Path) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=400, seed=41, non_disclosure_rate=0.0, consent_rate=0.6), world)
    chosen = pick(world)
    wish, consent, rejected = chosen["portal_wish"], chosen["portal_consent"], chosen["rejected_wish"]
    late = second_application(world, rejected["個人ID"])
    rewrite_portal(world, {wish["受付番号"]: {"不開示希望": "1", "照会同意": "0"},
                           consent["受付番号"]: {"照会同意": "1", "不開示希望": "0"}}, [late])
    manual = chosen["manual"]["個人ID"]

    codes = codes_by_person(cycle_until_inquiry(child_home, world, tmp_path))
    # The portal wish, and a portal application whose number was rejected (E05: the person holds another
    # number) but which identified the person: 2 on every request about them; everyone else 1.
    flagged = {wish["個人ID"], rejected["個人ID"]}
    assert all(codes[pid] == {"2"} for pid in flagged)
    assert all(c == {"1"} for pid, c in codes.items() if pid not in flagged) and codes[manual] == {"1"}
    # The portal consent is recorded with its source and widens the request to consent-only information.
    sent = rows_of(tmp_path / "inq.csv")
    asked = {r["特定個人情報名コード"] for r in sent if r["個別業務システム利用番号"] == consent["個人ID"]}
    assert asked == consent_codes_for(world, consent["個人ID"])
    [(receipt, received, stated, outcome)] = child_query(child_home, (
        "SELECT a.receipt_no, a.received_at, a.consent, a.outcome FROM registry_portalapplication a "
        f"JOIN registry_person p ON p.id = a.person_id WHERE p.person_id = '{consent['個人ID']}'"))
    assert (receipt, stated in (True, 1), outcome) == (consent["受付番号"], True, "OK") and received
    [(code,)] = child_query(child_home, "SELECT outcome FROM registry_portalapplication "
                                        f"WHERE receipt_no = '{late['受付番号']}'")
    assert code == "E05"

    # A registrar sets the flag from a wish received at the counter: the next file carries 2 for them.
    registrar = login_as(child_home, "registrar")
    done = run_jutaku(registrar, "persons", "non-disclosure", "set", manual, "--reason", "窓口でDV被害の申出（支援措置）",
                      check=True).stdout
    assert "不開示を設定しました" in done
    filing = next(f for f in rows_of(world / "procedures.csv") if f["対象者個人ID"] == manual and f["手続コード"] == INCOME)
    write_csv(tmp_path / "procedures-2.csv", PROCEDURES, [dict(filing, 受付番号="P202699999999", 照会同意="1")])
    run_jutaku(child_home, "import", "procedures", str(tmp_path / "procedures-2.csv"), "--no-progress", check=True)
    later = codes_by_person(inquiry_file(child_home, tmp_path / "inq-2.csv"))
    assert later == {manual: {"2"}}

    # Audited by path, and no 受付番号 in any audit record (a 12-digit receipt may pass the check digit).
    sources = {(o, json.loads(d)["source"]) for o, d in child_query(
        child_home, "SELECT objects, detail FROM audit_record WHERE event = 'non_disclosure:set'")}
    assert sources == {(wish["個人ID"], "portal"), (rejected["個人ID"], "portal"), (manual, "manual")}
    receipts = (wish["受付番号"], consent["受付番号"], late["受付番号"])
    leaked = child_query(child_home, "SELECT objects, detail FROM audit_record")
    assert not [row for row in leaked if any(r in row[0] or r in row[1] for r in receipts)]


def consent_codes_for(world: Path, person_id: str) -> set[str]:
    """Every information code the allow-list permits for the person's 住宅区分 (consent given)."""
    from importlib import resources

    from jutaku.formats.layouts import HOUSING

    housing = HOUSING[next(r for r in rows_of(world / "targets.csv") if r["個人ID"] == person_id)["住宅区分"]]
    text = resources.files("jutaku.data").joinpath("allowlist.csv").read_text(encoding="utf-8-sig")
    rules = [r for r in csv.DictReader(text.splitlines()) if r["procedure_code"] == INCOME]
    permitted = {r["info_code"] for r in rules if r["housing_category"] == housing}
    assert {r["info_code"] for r in rules if r["housing_category"] == housing and r["requires_consent"] == "1"}
    return permitted


def test_clearing_needs_a_second_supervisor_and_both_are_audited(child_home: dict[str, str], tmp_path: Path) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=60, seed=43, non_disclosure_rate=0.0), world)
    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    pid = rows_of(world / "targets.csv")[0]["個人ID"]

    def flag() -> bool:
        [(value,)] = child_query(child_home, f"SELECT non_disclosure FROM registry_person WHERE person_id = '{pid}'")
        return value in (True, 1)

    registrar = login_as(child_home, "registrar", username="rg.sato")
    first, second = (login_as(child_home, "supervisor", username=name) for name in ("sv.first", "sv.second"))
    inquirer = login_as(child_home, "inquirer", username="iq.kato")
    assert run_jutaku(inquirer, "persons", "non-disclosure", "set", pid, "--reason", "理由のテスト").returncode == 3
    assert run_jutaku(registrar, "persons", "non-disclosure", "set", pid, "--reason", "x").returncode == 2  # too short
    run_jutaku(registrar, "persons", "non-disclosure", "set", pid, "--reason", "電話でDV被害の申出", check=True)
    assert flag()
    # A registrar cannot ask for the flag to be cleared; a supervisor can, and it stays set meanwhile.
    assert run_jutaku(registrar, "persons", "non-disclosure", "clear", pid, "--reason", "本人の申出").returncode == 3
    asked = run_jutaku(first, "persons", "non-disclosure", "clear", pid, "--reason", "本人から解除の申出", check=True)
    approval = re.search(r"承認依頼 #(\d+)", asked.stdout)
    assert approval and flag()
    number = approval.group(1)
    again = run_jutaku(first, "persons", "non-disclosure", "clear", pid, "--reason", "本人から解除の申出")
    assert again.returncode == 2 and "既に依頼" in again.stderr
    # The requester cannot approve; neither can a registrar; another supervisor can.
    own = run_jutaku(first, "approvals", "approve", number)
    assert own.returncode == 2 and "自分の依頼" in own.stderr and flag()
    assert run_jutaku(registrar, "approvals", "approve", number).returncode == 3 and flag()
    run_jutaku(second, "approvals", "approve", number, check=True)
    assert not flag()
    [(objects, detail)] = child_query(child_home, "SELECT objects, detail FROM audit_record "
                                                  "WHERE event = 'non_disclosure:clear'")
    assert pid in objects and "sv.first" in detail and "sv.second" in detail
    [(who,)] = child_query(child_home, "SELECT username FROM audit_record WHERE event = 'non_disclosure:set'")
    assert who == "rg.sato"


def test_a_wish_stated_after_the_clear_request_blocks_its_approval(child_home: dict[str, str], tmp_path: Path) -> None:
    world = tmp_path / "world"
    build_world(WorldSpec(persons=60, seed=47, non_disclosure_rate=0.0), world)
    run_jutaku(child_home, "import", "targets", str(world / "targets.csv"), "--no-progress", check=True)
    pid = rows_of(world / "targets.csv")[0]["個人ID"]
    first, second = (login_as(child_home, "supervisor", username=name) for name in ("sv.first", "sv.second"))
    run_jutaku(first, "persons", "non-disclosure", "set", pid, "--reason", "窓口での申出", check=True)
    asked = run_jutaku(first, "persons", "non-disclosure", "clear", pid, "--reason", "解除の申出", check=True)
    number = re.search(r"承認依頼 #(\d+)", asked.stdout).group(1)  # type: ignore[union-attr]
    run_jutaku(second, "persons", "non-disclosure", "set", pid, "--reason", "再度の申出（電話）", check=True)
    refused = run_jutaku(second, "approvals", "approve", number)
    assert refused.returncode == 2 and "新しい不開示希望" in refused.stderr
    [(flag,)] = child_query(child_home, f"SELECT non_disclosure FROM registry_person WHERE person_id = '{pid}'")
    assert flag in (True, 1)
