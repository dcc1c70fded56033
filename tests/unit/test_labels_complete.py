"""Staff see names, never internal codes (issue 14 item 4): every code a screen, a command or a report shows
has a Japanese name — job kinds, outcome and result codes, information and procedure codes, 本人確認書類,
roles, approval kinds, interfaces, statuses. Each test fails when a new code arrives without its name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from jutaku.accounts.approval_labels import kind_label, payload_items, payload_text
from jutaku.accounts.approvals import KINDS as APPROVAL_KINDS
from jutaku.accounts.models import ApprovalState
from jutaku.accounts.permissions import ROLE_LABELS, Role
from jutaku.allowlist.names import packaged
from jutaku.domain import inquiry, juki, linkage, registration
from jutaku.domain.jobs import KIND_LABELS, Status
from jutaku.domain.jobs import LABELS as JOB_STATUS_LABELS
from jutaku.domain.jobs import kind_label as job_kind_label
from jutaku.exchange.labels import interface_label, outcome_label
from jutaku.formats.errors import FILE_CODES
from jutaku.formats.layouts import ID_DOCUMENT, INQUIRY_RESULT, KIT, LAYOUTS
from jutaku.jobs.labels import DELETION_COUNTS, count_label, count_rows, count_text
from jutaku.registry.labels import PORTAL_CHECKS, id_document_label
from jutaku.stats import labels as short

SRC = Path(__file__).resolve().parents[2] / "src" / "jutaku"
_CODE_LIKE = re.compile(r"[a-z_]+[:_-][a-z_-]+|[A-Z]{2}\d{2,}")  # number:store, role_grant, register-kit, TM99…


def japanese(text: str) -> bool:
    return bool(text) and not text.isascii()


def job_kinds() -> set[str]:
    """Every kind a job runs under: the ``KIND``/``KINDS`` constants of the modules that start jobs (those that
    import ``run_job`` or ``run_import``)."""
    kinds: set[str] = set()
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
        if not imported & {"run_job", "run_import"}:
            continue
        for node in tree.body:
            target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
            if isinstance(target, ast.Name) and target.id in ("KIND", "KINDS") and node.value is not None:
                value = node.value
                found = value.values if isinstance(value, ast.Dict) else [value]
                kinds.update(v.value for v in found if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return kinds


def test_every_job_kind_has_a_name() -> None:
    kinds = job_kinds()
    assert {"import-targets", "register-kit", "register-portal", "inquiry-create", "bulk-deletion"} <= kinds
    assert kinds <= set(KIND_LABELS), kinds - set(KIND_LABELS)
    assert all(japanese(job_kind_label(k)) for k in kinds)
    assert job_kind_label("test.import") == "test.import"


def test_every_job_status_and_approval_state_has_a_name() -> None:
    assert set(JOB_STATUS_LABELS) == set(Status) and all(japanese(v) for v in JOB_STATUS_LABELS.values())
    assert all(japanese(label) for _, label in ApprovalState.choices)


@pytest.mark.parametrize(("kind", "codes"), [
    ("register-kit", [o.value for o in registration.Outcome]),
    ("register-portal", [o.value for o in registration.Outcome]),
    ("inquiry-import", [o.value for o in inquiry.InquiryOutcome]),
    ("inquiry-create", [x.value for x in inquiry.Exclusion] + ["requests", "persons", "household"]),
    ("juki-import", [o.value for o in juki.JukiOutcome]),
    ("linkage-import", [o.value for o in linkage.LinkageOutcome]),
    ("linkage-request", ["created", "X07"]), ("juki-request", ["created", "X07"]),
    ("import-targets", ["OK", "U01", "I01", "I02", "S01", "E00", "E06"]),
    ("import-procedures", ["OK", "U01", "I01", "E00", "E02", "E06", "E08", "E09"]),
])
def test_every_count_of_every_job_kind_has_a_meaning(kind: str, codes: list[str]) -> None:
    for code in codes:
        assert japanese(count_label(kind, code)), (kind, code)
    assert count_text("register-kit", "E03") == "E03 氏名カナ・生年月日・性別が対象者情報と一致しません"
    assert count_text("inquiry-create", "persons") == "照会対象者（人）"  # a counter: its name alone


def test_every_table_a_deletion_empties_has_a_name() -> None:
    source = (SRC / "retention" / "erasure.py").read_text(encoding="utf-8")
    keys = set(re.findall(r'counts\["([a-z_]+)"\]', source)) | set(re.findall(r'\("([a-z_]+)", [A-Z]\w+\)', source))
    deletion = (SRC / "retention" / "deletion.py").read_text(encoding="utf-8")
    keys |= set(re.findall(r'counts\["([a-z_]+)"\]', deletion)) | set(re.findall(r'Counter\(\{"([a-z_]+)":', deletion))
    assert {"numbers", "keys", "persons", "inquiry_results", "already"} <= keys
    assert keys <= set(DELETION_COUNTS), keys - set(DELETION_COUNTS)
    rows = count_rows("bulk-deletion", {"persons": 3, "numbers": 3, "keys": 3})
    assert [label for _, label, _ in rows] == ["データ鍵（暗号消去）", "個人番号", "削除した対象者（人）"]


def test_every_result_code_shown_in_the_statistics_has_a_short_name() -> None:
    assert set(short.REGISTRATION) == {o.value for o in registration.Outcome}
    assert set(short.JUKI) == {o.value for o in juki.JukiOutcome}
    assert set(short.INQUIRY) == set(INQUIRY_RESULT)
    for names in (short.REGISTRATION, short.JUKI, short.INQUIRY):
        assert all(japanese(v) and len(v) <= 10 for v in names.values())
    assert short.heading("E03", short.REGISTRATION) == "E03 本人情報不一致"


def test_every_information_and_procedure_code_has_a_name() -> None:
    names = packaged()
    for kind in inquiry.INFO_ITEMS:  # every kind of information an answer can carry
        code = f"TM99{'0' * 10}{kind}"
        assert japanese(names.info(code)), code
    assert names.info("TM99000000000001") == "地方税関係情報" and names.procedure("JT99000000530001") == "収入の申告"
    assert all(japanese(n) for n in (*names.information.values(), *names.procedures.values()))
    assert names.info("TM00000000000000") == "TM00000000000000"  # a code no list names is shown as it is


def test_every_identity_document_has_a_name() -> None:
    kit_codes = next(c for c in KIT.columns if c.name == "本人確認書類").codes
    assert kit_codes and set(kit_codes) <= set(ID_DOCUMENT)
    for code in ID_DOCUMENT:
        assert japanese(id_document_label("kit", code)) and id_document_label("change", code) == ID_DOCUMENT[code]
    sim = (SRC / "sim" / "notifications.py").read_text(encoding="utf-8")
    portal_methods = set(re.findall(r'num, "([A-Z]+)"', sim))
    assert portal_methods and portal_methods <= set(PORTAL_CHECKS)
    assert id_document_label("portal", "JPKI") == "公的個人認証（電子証明書）"
    assert id_document_label("kit", "") == "—"


def test_every_role_has_a_name() -> None:
    assert set(ROLE_LABELS) == set(Role) and all(japanese(v) for v in ROLE_LABELS.values())


def test_every_approval_kind_has_a_name_without_codes() -> None:
    assert {"role_grant", "business-export", "bulk-deletion", "non-disclosure-clear", "suspension-lift"} <= set(
        APPROVAL_KINDS)
    for name in APPROVAL_KINDS:
        label = kind_label(name)
        assert japanese(label) and not _CODE_LIKE.search(label), label
        assert not any(role.value in label for role in Role), label


def test_an_approvals_content_reads_as_japanese_labels_and_values() -> None:
    names = packaged()
    items = payload_items({"username": "tanaka.h", "add": ["supervisor", "security_admin"]})
    assert items == [("利用者", "tanaka.h"), ("付与する役割", "責任者・セキュリティ管理者")]
    assert payload_items({"procedure": "JT99000000530001", "year": 2026}, procedure_name=names.procedure) == [
        ("事務手続", "収入の申告"), ("年度", "2026年度")]
    deletion = {"file_sha256": "a" * 64, "list_sha256": "b" * 64, "persons": 1234}
    assert payload_text(payload_items(deletion)) == "対象: 1,234 人"  # the hashes stay off the screen
    assert payload_items({"person": 7, "persons": 1}, person_id={7: "1000000007"}.get) == [
        ("対象者", "個人ID 1000000007")]
    assert payload_items({"person": 7, "persons": 1}) == [("対象", "1 人")]  # a reader who may not see persons
    assert payload_text([]) == "-"
    for payload in ({"subject_request": 5}, deletion, {"username": "x", "add": ["auditor"]}):
        text = payload_text(payload_items(payload))
        assert not set(text) & set("{}[]'\"") and japanese(text), text


def test_every_interface_on_the_ledgers_has_a_name() -> None:
    from jutaku.accounts.review import REVIEW
    from jutaku.allowlist.service import INTERFACE as ALLOWLIST
    from jutaku.audit.reports import AUDIT_REPORT
    from jutaku.stats.plots import CHART_INTERFACE
    from jutaku.subjects.report import INTERFACE as DISCLOSURE

    for name in (*LAYOUTS, REVIEW.name, ALLOWLIST, AUDIT_REPORT.name, CHART_INTERFACE, DISCLOSURE):
        assert japanese(interface_label(name)), name
    assert interface_label("inquiry-request") == "情報照会要求"
    assert outcome_label("ok") == "正常"
    for code, (meaning, _) in FILE_CODES.items():
        assert outcome_label(code) == f"拒否 {code} {meaning}"
