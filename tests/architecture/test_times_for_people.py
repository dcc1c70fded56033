"""Times reach people in JST through one helper (ADR 0027): a scan of the source and the templates.

Stored timestamps are UTC; every time shown on a screen, printed by a command or written into a report
or a file name goes through :mod:`jutaku.domain.jst` (templates: the ``|jst`` filter). These rules keep
ad-hoc formatting from coming back: Django's ``|date`` and ``localtime`` follow whatever time zone is
active, ``strftime``/``isoformat`` in a message print whatever zone the value happens to be in.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "jutaku"

#: Modules that may format times themselves, and why.
FORMATS_TIMES_ITSELF = {
    "domain/jst.py": "the helper",
    "domain/wareki.py": "the interface files' YYYYMMDD / YYYYMMDDhhmmssSSS (JST)",
    "audit/chain.py": "the hashed content of the audit chain (UTC; must never change)",
    "audit/anchorfile.py": "the anchor file's stored UTC time; stands alone (its JST display is tested against the helper)",
    "stats/service.py": "month keys (YYYY-MM) of days already taken in JST",
}
#: ``f"{x.<name>}"`` that write a stored value, not one for people.
STORED_INTERPOLATIONS = {
    ("accounts/users.py", "user.end_date"): "the audit detail of a change (hashed content)",
    ("audit/checkpoint.py", "cp.at"): "the checkpoint file's stored UTC time",
}
TIME_NAME = re.compile(r"(^|_)(at|on|date|deadline|since|until)$")
PEOPLE_CALLS = {"echo", "secho", "print", "Refused", "ClickException", "BadParameter"}


def python_files() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts and "sim" not in p.parts)


def relative(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def _call_name(node: ast.Call) -> str:
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")


def _is_isoformat(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "isoformat"


def offences(source: str, name: str) -> list[str]:
    """What in module ``name`` (a path under src/jutaku) formats a time for people by itself."""
    found = []
    own_format = name in FORMATS_TIMES_ITSELF
    for node in ast.walk(ast.parse(source)):
        where = f"{name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Attribute) and node.attr in ("localtime", "strftime") and not own_format:
            found.append(f"{where}: .{node.attr} (use jutaku.domain.jst)")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "date" \
                and isinstance(node.func.value, ast.Call) and _call_name(node.func.value) in ("now", "utcnow"):
            found.append(f"{where}: the day of a UTC now (use jutaku.domain.wareki.jst_date)")
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None and not own_format:
            spec = ast.unparse(node.format_spec)
            if "%" in spec:
                found.append(f"{where}: f-string date format {spec} (use jutaku.domain.jst)")
        if isinstance(node, ast.FormattedValue) and node.format_spec is None and node.conversion == -1:
            value = node.value
            if isinstance(value, ast.Attribute) and TIME_NAME.search(value.attr) \
                    and (name, ast.unparse(value)) not in STORED_INTERPOLATIONS:
                found.append(f"{where}: {ast.unparse(value)} interpolated as it is (use jutaku.domain.jst)")
        if isinstance(node, ast.JoinedStr | ast.Call) and (
                isinstance(node, ast.JoinedStr) or _call_name(node) in PEOPLE_CALLS):
            parts = node.values if isinstance(node, ast.JoinedStr) else [*node.args, *(k.value for k in node.keywords)]
            for part in parts:
                if any(_is_isoformat(n) for n in ast.walk(part)):
                    found.append(f"{where}: isoformat() in a message (use jutaku.domain.jst)")
    return sorted(set(found))


def test_times_in_the_source_are_formatted_only_by_the_helper() -> None:
    found = [o for p in python_files() for o in offences(p.read_text(encoding="utf-8"), relative(p))]
    assert found == []


def test_the_scan_catches_what_it_bans() -> None:
    """The rules above fail on the patterns they were written against (as the code was before ADR 0027)."""
    before = ("import click\nfrom django.utils import timezone\n"
              "def f(row, d):\n"
              "    click.echo(f\"{timezone.localtime(row.created_at):%Y-%m-%d %H:%M}\")\n"
              "    click.echo(f\"期限 {d.isoformat()}\")\n"
              "    click.echo('期限 ' + d.isoformat())\n"
              "    received = datetime.now(UTC).date()\n"
              "    return f\"{row.loaded_at} {row.created_at.strftime('%Y')}\"\n")
    kinds = " ".join(offences(before, "accounts/commands.py"))
    assert ".localtime" in kinds and "f-string date format" in kinds and kinds.count("isoformat()") == 2
    assert "row.loaded_at interpolated" in kinds and ".strftime" in kinds and "the day of a UTC now" in kinds


# ---------------------------------------------------------------------------------------------- templates

TEMPLATES = sorted((SRC / "web" / "templates").rglob("*.html")) + sorted((SRC / "accounts" / "templates").rglob("*.html"))
SCREENS = sorted((SRC / "web" / "templates").rglob("*.html"))
BANNED_FILTERS = re.compile(r"\|\s*(date|time|naturaltime|naturalday|timesince|timeuntil)\b|\{%\s*now\b")
VARIABLE = re.compile(r"\{\{\s*([^}|]+?)\s*(\|[^}]*)?\}\}")


def template_offences(text: str, name: str, *, screen: bool = True) -> list[str]:
    """Django's own date filters anywhere; on a screen, also a time-named variable shown without ``|jst``
    (a report's template gets its times already formatted by :func:`jutaku.domain.jst.format_time`)."""
    found = [f"{name}: {m.group(0)} (use |jst)" for m in BANNED_FILTERS.finditer(text)]
    for m in VARIABLE.finditer(text) if screen else ():
        variable, filters = m.group(1).strip(), m.group(2) or ""
        last = variable.rsplit(".", 1)[-1]
        # form.* are the values of <input type="date">, which HTML wants as YYYY-MM-DD.
        if TIME_NAME.search(last) and not variable.startswith("form.") and "|jst" not in filters.replace(" ", ""):
            found.append(f"{name}: {m.group(0)} shown without |jst")
    return found


def test_templates_show_times_only_through_the_jst_filter() -> None:
    found = [o for p in TEMPLATES for o in template_offences(p.read_text(encoding="utf-8"), p.name, screen=p in SCREENS)]
    assert found == []


def test_the_template_scan_catches_what_it_bans() -> None:
    before = ('<td>{{ t.created_at|date:"Y-m-d H:i" }}</td><td>{{ f.received_on }}</td>'
              '<input value="{{ form.start_date }}">{% now "Y" %}<td>{{ t.finished_at|jst|default:"—" }}</td>')
    found = template_offences(before, "x.html")
    assert len(found) == 4 and not any("finished_at" in o or "form.start_date" in o for o in found)


def test_every_page_says_its_times_are_jst() -> None:
    base = (SRC / "web" / "templates" / "web" / "base.html").read_text(encoding="utf-8")
    assert "日時はすべて日本時間（JST）です。" in base
