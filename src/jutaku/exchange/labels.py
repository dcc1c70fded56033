"""The names of the interfaces (様式) the media ledger and the output list record (seed V-1: names, not codes).

A ledger row stores the interface's identifier (``inquiry-request``); staff read its title — the layout's
(:data:`jutaku.formats.layouts.LAYOUTS`) or, for a file that has no layout there, the name below. A file
refused whole is shown with its code (interfaces.md) and the code's meaning.
"""

from __future__ import annotations

from typing import Final

from jutaku.formats.errors import FILE_CODES
from jutaku.formats.layouts import LAYOUTS

#: Files written or read outside the layouts of interfaces.md.
OTHER_INTERFACES: Final = {
    "disclosure-report": "保有個人情報開示書", "access-review": "アクセス権限確認",
    "audit-report": "監査用エクスポート（操作履歴）", "allowlist": "情報連携許可リスト", "statistics-chart": "統計の図",
}


def interface_label(name: str) -> str:
    """An interface by its name (an unknown one as it is stored)."""
    layout = LAYOUTS.get(name)
    return layout.title if layout is not None else OTHER_INTERFACES.get(name, name)


def outcome_label(outcome: str) -> str:
    """A ledger row's outcome: 正常, or 拒否 with the refusal's code and meaning (``拒否 R_HEADER ヘッダ行が…``)."""
    if outcome == "ok":
        return "正常"
    meaning = FILE_CODES.get(outcome)
    return f"拒否 {outcome} {meaning[0]}" if meaning else f"拒否 {outcome}"
