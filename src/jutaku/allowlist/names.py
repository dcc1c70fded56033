"""Names of the procedure and information codes (事務手続コード JT…, 特定個人情報名コード TM…) for what staff read.

A code is an identifier of the interfaces (interfaces.md): files keep it; screens, command output and
reports show its name — 地方税関係情報, not TM99000000000001. The names come from the legal allow-list:
every version ever loaded, the newest winning (a request made under an older list keeps its name), over the
packaged versions (:data:`jutaku.allowlist.service.PACKAGED`), so a code is named even before a list is
loaded. A code no list names is shown as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from jutaku.formats.allowlist import parse_allowlist

Entry = tuple[str, str, str, str, str]  # procedure code, procedure name, info code, info name, provider


@dataclass(frozen=True)
class Names:
    procedures: dict[str, str] = field(default_factory=dict)
    information: dict[str, str] = field(default_factory=dict)
    providers: dict[str, str] = field(default_factory=dict)

    def procedure(self, code: str) -> str:
        """The procedure's name (収入の申告), or the code when no list names it."""
        return self.procedures.get(code, code)

    def info(self, code: str) -> str:
        """The information's name (地方税関係情報), or the code when no list names it."""
        return self.information.get(code, code)

    def with_entries(self, entries: Iterable[Entry]) -> Names:
        procedures, information, providers = dict(self.procedures), dict(self.information), dict(self.providers)
        for proc, proc_name, info, info_name, provider in entries:
            procedures[proc], information[info], providers[info] = proc_name, info_name, provider
        return Names(procedures, information, providers)


@cache
def packaged() -> Names:
    """The names in the allow-lists Jutaku ships (no database)."""
    from jutaku.allowlist.service import PACKAGED

    names = Names()
    for name, _ in PACKAGED:
        rules = parse_allowlist(resources.files("jutaku.data").joinpath(name).read_bytes()).rules
        names = names.with_entries((r.procedure_code, r.procedure_name, r.info_code, r.info_name, r.provider)
                                   for r in rules)
    return names


def current() -> Names:
    """The packaged names overlaid with those of every loaded version, oldest first (one query)."""
    from jutaku.allowlist.models import AllowRule

    return packaged().with_entries(AllowRule.objects.order_by("version_id", "id").values_list(
        "procedure_code", "procedure_name", "info_code", "info_name", "provider"))
