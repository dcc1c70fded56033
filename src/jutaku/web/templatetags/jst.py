"""The one template filter for times: ``{{ value|jst }}`` (ADR 0027), a built-in of every template.

``{{ t.created_at|jst }}`` → ``2026-12-05 09:05``; ``|jst:"seconds"`` → ``2026-12-05 09:05:07``;
``|jst:"date"`` → ``2026-12-05`` (a datetime as its day in Japan, a date as it is). ``None`` or an
empty value renders as ``""``, so ``|jst|default:"—"`` works. The conversion never depends on Django's
active time zone. Django's ``|date``/``|time`` are not used in templates (an architecture test).
"""

from __future__ import annotations

import datetime as dt

from django import template

from jutaku.domain.jst import format_day, format_screen_time

register = template.Library()

_FORMATS = ("", "seconds", "date")


@register.filter(name="jst", expects_localtime=False)
def jst(value: object, shape: str = "") -> str:
    if shape not in _FORMATS:
        raise template.TemplateSyntaxError(f"|jst takes one of {_FORMATS}, not {shape!r}")
    if value is None or value == "":
        return ""
    if shape == "date":
        if not isinstance(value, dt.date):
            raise TypeError("|jst:\"date\" needs a date or a datetime")
        return format_day(value)
    if not isinstance(value, dt.datetime):
        raise TypeError("|jst needs an aware datetime")
    return format_screen_time(value, seconds=shape == "seconds")
