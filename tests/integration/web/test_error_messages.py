"""Error messages on the screens say what happened and what to do, in Japanese (issue 14 item 6, ADR 0028):

- an empty upload (0 bytes) is not "no file chosen";
- a file uploaded to the wrong form is recognised by its layout — also when it is encrypted — and the page
  says what it is and offers the way to its form (or, when the user may not use that form, who does);
- a file with lines in two encodings fails its task naming the line;
- the 403 page names the roles that hold the permission and whom to ask.
Nothing is queued for a refused upload, and nothing is left behind. SQLite and PostgreSQL.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jutaku.crypto.keyring import get_keyring
from jutaku.crypto.media import encrypt_file
from jutaku.formats import docgen
from jutaku.formats.csvio import write_csv
from jutaku.formats.layouts import JUKI_RESULT_LAYOUT, KIT, LAYOUTS, PROCEDURES, Layout
from jutaku.jobs.models import Task
from jutaku.jobs.worker import run_pending
from jutaku.web.tasks import all_kinds
from tests.integration.web.conftest import Browser, SignedIn
from tests.unit.formats.conftest import kit_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("home_keys", "allowlist")]


def sample(layout: Layout, encoding: str = "utf-8") -> bytes:
    sink = io.BytesIO()
    write_csv(sink, layout, [docgen.sample_row(layout) for _ in range(3)], encoding=encoding)  # type: ignore[arg-type]
    return sink.getvalue()


def upload(browser: Browser, url: str, content: bytes | None, name: str, form: str = "/files/import/",
           **fields: str) -> Any:
    data: dict[str, Any] = dict(fields)
    if content is not None:
        data["file"] = SimpleUploadedFile(name, content)
    return browser.post(url, data, form=form)


def error_of(response: Any) -> tuple[str, str | None]:
    """The form's error message and the link it offers (None when none)."""
    page = response.content.decode()
    match = re.search(r'data-testid="form-error">(.*?)</p>', page, re.S)
    assert match, page[-1500:]
    link = re.search(r'href="([^"]+)" data-testid="form-error-link"', match.group(1))
    text = html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()
    return text, (html.unescape(link.group(1)) if link else None)


def test_an_empty_upload_is_not_a_missing_one(signed_in: SignedIn) -> None:
    registrar = signed_in("registrar")
    empty = upload(registrar, "/files/import/kit/", b"", "kit.csv")
    assert empty.status_code == 400
    assert error_of(empty)[0].startswith("アップロードされたファイルが空です（0 バイト）: kit.csv。")
    none = upload(registrar, "/files/import/kit/", None, "")
    assert none.status_code == 400 and error_of(none)[0].startswith("ファイルが選択されていません。")
    assert not Task.objects.exists()


def test_a_file_for_another_form_says_what_it_is_and_offers_its_form(signed_in: SignedIn, tmp_path: Path) -> None:
    inquirer = signed_in("inquirer")
    juki = sample(JUKI_RESULT_LAYOUT, "cp932")
    refused = upload(inquirer, "/files/import/inquiry/", juki, "inquiry-answer.csv")
    assert refused.status_code == 400
    text, link = error_of(refused)
    assert text.startswith("このファイルは「住基ネット 本人確認情報 照会結果」のファイルです（この欄は「情報照会結果の取込」用です）。"
                           "「住基ネット照会結果の取込」の欄から取り込んでください。")
    assert link == "/files/import/#juki-h" and 'id="juki-h"' in inquirer.get("/files/import/").content.decode()

    (tmp_path / "juki.csv").write_bytes(juki)  # the same file encrypted for the medium: recognised all the same
    encrypt_file(tmp_path / "juki.csv", tmp_path / "juki.csv.enc", get_keyring().media_key)
    encrypted = upload(inquirer, "/files/import/inquiry/", (tmp_path / "juki.csv.enc").read_bytes(), "juki.csv.enc")
    assert encrypted.status_code == 400 and error_of(encrypted)[1] == "/files/import/#juki-h"

    registrar = signed_in("registrar")
    text, link = error_of(upload(registrar, "/files/import/kit/", sample(PROCEDURES), "kit.csv"))
    assert "「都住システム 手続抽出」のファイルです" in text and link == "/files/import/#procedures-h"
    text, link = error_of(upload(registrar, "/files/import/portal/", sample(KIT), "kit.csv"))  # not "only .zip"
    assert "「個人番号届出データ」のファイルです（この欄は「マイナポータル申請データの登録」用です）" in text
    assert link == "/files/import/#kit-h"
    text, link = error_of(upload(registrar, "/deletion/request/", sample(KIT), "list.csv", form="/deletion/",
                                 reason="退去者"))
    assert "「個人番号届出データ」のファイルです（この欄は「削除依頼」用です）" in text and link == "/files/import/#kit-h"
    # A form the user may not use is not offered: who does it is said instead.
    text, link = error_of(upload(registrar, "/files/import/kit/", juki, "kit.csv"))
    assert link is None and "「住基ネット照会結果の取込」は照会担当の職員が行います。" in text
    assert not Task.objects.exists()


def test_a_mixed_encoding_upload_fails_naming_the_line(signed_in: SignedIn) -> None:
    registrar = signed_in("registrar")
    lines = kit_bytes(20).split(b"\r\n")
    lines[14] = lines[14].decode().encode("cp932")  # record 15
    response = upload(registrar, "/files/import/kit/", b"\r\n".join(lines), "kit.csv")
    assert response.status_code == 302
    run_pending(all_kinds())
    task = Task.objects.get()
    assert task.state == "failed" and task.error.startswith("[R_ENCODING] 15 行目を UTF-8 として読めません")
    page = html.unescape(registrar.get(f"/tasks/{task.pk}/").content.decode())
    assert "15 行目を UTF-8 として読めません" in page and "この行は CP932（Shift_JIS）で書かれているようです" in page


def test_the_403_page_names_the_roles_and_whom_to_ask(signed_in: SignedIn) -> None:
    inquirer = signed_in("inquirer")
    denied = upload(inquirer, "/files/import/kit/", sample(KIT), "kit.csv")
    assert denied.status_code == 403
    page = html.unescape(denied.content.decode())
    assert ("この画面・操作には「番号登録担当」のロールが必要です（あなたのロール: 照会担当）。"
            "必要な場合は、セキュリティ管理者にロールの付与を依頼してください。") in page
    auditor = signed_in("auditor").get("/files/import/")
    assert auditor.status_code == 403
    page = html.unescape(auditor.content.decode())
    assert "「番号登録担当・照会担当」のいずれかのロールが必要です（あなたのロール: 監査担当）" in page
    assert "監査担当は他のロールと兼務できないため（職務の分離）" in page


def test_every_upload_form_declares_its_file_and_where_it_is(signed_in: SignedIn) -> None:
    uploads = [k for k in all_kinds().values() if k.upload_suffixes]
    imports = {name for name, layout in LAYOUTS.items() if layout.direction == "import"} | {"allowlist"}
    assert {k.layout for k in uploads} == imports and len(uploads) == len(imports)
    browser = signed_in("registrar", "inquirer")
    supervisor = signed_in("supervisor")
    for k in uploads:
        url_name, anchor = k.form
        who = supervisor if k.layout == "allowlist" else browser
        assert f'id="{anchor}"' in who.get(reverse(url_name)).content.decode(), k.name
