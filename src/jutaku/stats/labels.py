"""Short names of the outcome codes the statistics count by, for table headings and chart legends.

The codes are part of the contract (interfaces.md, the lists staff handle), so a heading shows the code
with a short name (``E03 本人情報不一致``); the full meaning is in the outcome tables and
docs/outcome-codes.md. A unit test keeps one short name for every code.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

#: Registration outcomes (kit and portal, interfaces.md "Registration outcomes").
REGISTRATION: Final[Mapping[str, str]] = MappingProxyType({
    "OK": "登録", "I01": "登録済（変更なし）", "E00": "形式不正", "E01": "番号不正", "E02": "個人ID不明",
    "E03": "本人情報不一致", "E04": "他の方に登録済", "E05": "別の番号を登録済", "E06": "ファイル内重複",
    "E07": "有効でない対象者",
})
#: Juki-net answers (:class:`jutaku.domain.juki.JukiOutcome`).
JUKI: Final[Mapping[str, str]] = MappingProxyType({
    "OK": "本人確認済", "D01": "相違あり", "D02": "死亡（消除）", "N01": "該当なし", "N09": "照会エラー",
    "E00": "形式不正", "J01": "照会番号不明", "J02": "回答済", "J03": "番号不一致",
})
#: 結果コード of an inquiry answer (interfaces.md, inquiry-result), and the requests not answered yet.
INQUIRY: Final[Mapping[str, str]] = MappingProxyType({
    "00": "該当あり", "01": "該当なし", "02": "未設定", "09": "エラー",
})


def heading(code: str, names: Mapping[str, str]) -> str:
    """``E03 本人情報不一致``; a code without a short name as it is."""
    name = names.get(code)
    return f"{code} {name}" if name else code
