"""Names of the register's codes that staff and residents read where a code would mean nothing.

本人確認書類 — how the person's identity was checked when the number was collected — is stored as the
code of its source: the kit's code (interfaces.md, kit: ``1`` 個人番号カード …), the portal's 本人確認方法
(``JPKI``) or, for a change notification, the kit's codes again. Screens and the disclosure report show the
name (:func:`id_document_label`); a unit test keeps every code named.
"""

from __future__ import annotations

from typing import Final

from jutaku.formats.layouts import ID_DOCUMENT

#: 本人確認 of a Mynaportal notification (マイナポータル: 公的個人認証).
PORTAL_CHECKS: Final = {"JPKI": "公的個人認証（電子証明書）"}


def id_document_label(source: str, code: str) -> str:
    """The identity document or check of a number from ``source`` (``kit``, ``portal``, ``change``); '—' for
    none, an unknown code as it is stored."""
    if not code:
        return "—"
    names = PORTAL_CHECKS if source == "portal" else ID_DOCUMENT
    return names.get(code, code)
