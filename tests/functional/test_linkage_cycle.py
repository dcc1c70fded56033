"""Integrated numbers end to end (issue 5 item 1): request file → simulated linkage server → import.

In process, on SQLite and PostgreSQL: the request file holds exactly the current registered persons
without an integrated number, with their true My Numbers; the answers store the server's numbers
(encrypted, decrypting to the simulator's value); a hostile answer file gets its coded row errors while
the rest loads; a repeated request run creates nothing twice.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from jutaku.accounts.actor import SYSTEM
from jutaku.audit.service import verify
from jutaku.crypto.envelope import FieldCipher
from jutaku.formats.csvio import write_csv
from jutaku.formats.errors import FileRejected
from jutaku.formats.layouts import LINKAGE_RESULT_LAYOUT
from jutaku.linkage.models import Dispatch, IntegratedNumber, LinkageRequest
from jutaku.linkage.requests import request_linkage
from jutaku.linkage.results import CIPHER_COLUMN, CIPHER_TABLE, import_linkage_results
from jutaku.registry.models import ImportRejection, MyNumberRecord, Person
from jutaku.registry.registration import register_numbers
from jutaku.registry.targets import import_targets
from jutaku.sim.linkage import Rates, answer_linkage, integrated_number
from jutaku.sim.world import WorldSpec, build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys")]
SEED = 21


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def world(tmp_path: Path) -> Path:
    out = tmp_path / "world"
    build_world(WorldSpec(persons=400, seed=SEED), out)
    import_targets(out / "targets.csv", actor=SYSTEM, progress=False)
    register_numbers(out / "kit.csv", source="kit", actor=SYSTEM, progress=False, workers=0)
    register_numbers(out / "portal.zip", source="portal", actor=SYSTEM, progress=False)
    return out


def test_requests_cover_exactly_the_current_registered_persons_with_their_true_numbers(world: Path,
                                                                                        tmp_path: Path) -> None:
    result = request_linkage(tmp_path / "req.csv", actor=SYSTEM, plain=True)
    sent = rows_of(tmp_path / "req.csv")
    expected = set(Person.objects.filter(status="1", my_number__isnull=False).values_list("person_id", flat=True))
    assert {r["個別業務システム利用番号"] for r in sent} == expected and len(sent) == len(expected) == result.written
    assert len({r["要求番号"] for r in sent}) == len(sent)
    held = list(MyNumberRecord.objects.values_list("person__person_id", "ciphertext"))
    numbers = FieldCipher().decrypt_many("registry_mynumberrecord", "my_number", [(p, bytes(t)) for p, t in held])
    registered = {pid: n.decode() for (pid, _), n in zip(held, numbers, strict=True)}
    assert all(registered[r["個別業務システム利用番号"]] == r["個人番号"] for r in sent)
    # (The registered number is the true one except where the world registered a wrong one on purpose.)
    truth = {r["個人ID"]: r["個人番号"] for r in rows_of(world / "truth" / "juki.csv")}
    assert sum(truth[r["個別業務システム利用番号"]] == r["個人番号"] for r in sent) > 0.95 * len(sent)
    assert all(r["処理区分"] == "1" and r["要求番号"].startswith("LK") for r in sent)
    assert set(LinkageRequest.objects.values_list("state", flat=True)) == {"open"}
    # Sent once, as one dispatch: the file's hash and count are on it, not rewritten into every request.
    [sent_dispatch] = Dispatch.objects.filter(kind="linkage")
    assert (sent_dispatch.sent_file_sha256, sent_dispatch.sent_rows) == (result.sha256, result.written)
    # A second run finds every person served by an open request: nothing new, no file.
    again = request_linkage(tmp_path / "req2.csv", actor=SYSTEM, plain=True)
    assert (again.created, again.written, again.path) == (0, 0, None)
    assert not (tmp_path / "req2.csv").exists()
    assert verify().ok


def test_answers_are_stored_encrypted_and_refused_answers_get_their_codes(world: Path, tmp_path: Path) -> None:
    request_linkage(tmp_path / "req.csv", actor=SYSTEM, plain=True)
    counts = answer_linkage(world, tmp_path / "req.csv", tmp_path / "ans.csv", Rates(not_found=0.1, error=0.05))
    answered = rows_of(tmp_path / "ans.csv")
    result = import_linkage_results(tmp_path / "ans.csv", actor=SYSTEM)
    assert result.job.counts == {k: v for k, v in {"OK": counts.get("0", 0), "N01": counts.get("1", 0),
                                                   "N09": counts.get("9", 0)}.items() if v}
    stored = list(IntegratedNumber.objects.values_list("person__person_id", "ciphertext"))
    assert len(stored) == counts["0"]
    plain = FieldCipher().decrypt_many(CIPHER_TABLE, CIPHER_COLUMN, [(pid, bytes(t)) for pid, t in stored])
    assert [p.decode() for p in plain] == [integrated_number(SEED, pid) for pid, _ in stored]
    # No integrated number is stored in clear, nor beside the My Number.
    raw = {bytes(t) for _, t in stored}
    assert all(integrated_number(SEED, pid).encode() not in token for pid, _ in stored for token in raw)
    states = dict(LinkageRequest.objects.values_list("request_no", "state"))
    assert all(states[a["要求番号"]] == {"0": "answered", "1": "not_found", "9": "error"}[a["結果コード"]]
               for a in answered)
    errors = LinkageRequest.objects.filter(state="error")
    assert errors.exists() and all(r.error_text for r in errors)  # the server's text is kept for follow-up
    # The same file again is a reported no-op.
    assert import_linkage_results(tmp_path / "ans.csv", actor=SYSTEM).job.duplicate

    # A hostile second file: every bad row gets its code, the one good row still loads.
    not_found = next(a for a in answered if a["結果コード"] == "1")
    ok = [a for a in answered if a["結果コード"] == "0"]
    other_person = ok[1]["個別業務システム利用番号"]
    request_linkage(tmp_path / "req3.csv", actor=SYSTEM, plain=True)  # the 該当なし and エラー persons are asked again
    retry = {r["個別業務システム利用番号"]: r["要求番号"] for r in rows_of(tmp_path / "req3.csv")}
    assert not_found["個別業務システム利用番号"] in retry
    pid = not_found["個別業務システム利用番号"]
    good = {"要求番号": retry[pid], "個別業務システム利用番号": pid,
            "団体内統合利用番号": integrated_number(SEED, pid), "結果コード": "0", "エラー内容": ""}
    bad = [
        {**good, "要求番号": "LK9999999999"},  # L01 unknown request
        {**ok[0]},  # L02 answered before (earlier file)
        {**good, "個別業務システム利用番号": other_person},  # L03 not the request's person
        good,  # OK
        {**good},  # L02 second answer in the same file
    ]
    more = [p for p in retry if p != pid]
    if more:
        bad.append({"要求番号": retry[more[0]], "個別業務システム利用番号": more[0],
                    "団体内統合利用番号": ok[0]["団体内統合利用番号"], "結果コード": "0", "エラー内容": ""})  # L04
    write_csv(tmp_path / "hostile.csv", LINKAGE_RESULT_LAYOUT, bad)
    hostile = import_linkage_results(tmp_path / "hostile.csv", actor=SYSTEM)
    codes = dict(ImportRejection.objects.filter(job_id=hostile.job.job_id).values_list("line_no", "code"))
    expected = {2: "L01", 3: "L02", 4: "L03", 6: "L02"} | ({7: "L04"} if more else {})
    assert codes == expected
    assert IntegratedNumber.objects.filter(person__person_id=pid).exists()
    assert IntegratedNumber.objects.count() == counts["0"] + 1
    assert verify().ok


def test_a_truncated_answer_file_is_refused_whole(world: Path, tmp_path: Path) -> None:
    request_linkage(tmp_path / "req.csv", actor=SYSTEM, plain=True)
    answer_linkage(world, tmp_path / "req.csv", tmp_path / "ans.csv")
    data = (tmp_path / "ans.csv").read_bytes()
    (tmp_path / "ans.csv").write_bytes(data[: data.rindex(b"\r\n", 0, len(data) - 2) + 2])  # drop the last row
    with pytest.raises(FileRejected) as exc:
        import_linkage_results(tmp_path / "ans.csv", actor=SYSTEM)
    assert exc.value.code == "R_MANIFEST_COUNT"
    assert IntegratedNumber.objects.count() == 0
    assert set(LinkageRequest.objects.values_list("state", flat=True)) == {"open"}


def test_a_person_whose_number_was_deleted_is_not_sent(world: Path, tmp_path: Path) -> None:
    from jutaku.linkage.requests import create_requests, write_requests

    create_requests(actor=SYSTEM)
    gone = LinkageRequest.objects.order_by("id").first()
    assert gone is not None
    MyNumberRecord.objects.filter(person=gone.person).delete()
    path, _, _, missing = write_requests(tmp_path / "req.csv", actor=SYSTEM, job_id=None, plain=True)
    assert path is not None and missing == 1
    assert gone.person.person_id not in {r["個別業務システム利用番号"] for r in rows_of(path)}
    assert LinkageRequest.objects.get(pk=gone.pk).state == "error"
