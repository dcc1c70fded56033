"""Named accounts only (AUTH-01): the username rule, pure Python.

A username names one person (e.g. ``tanaka.h``, ``kosha-sato01``); shared, generic or default names
(``admin``, ``root``, ``test``, ``operator`` …, also with digits or separators around them) are refused.
The exact generic names are also refused by the database constraint ``accounts_user_not_generic``.
"""

from __future__ import annotations

import re
from typing import Final

from jutaku.domain import free_text

#: Refused as a whole name, and as the name with digits, ``.``, ``_`` or ``-`` added around it.
GENERIC_NAMES: Final = frozenset({
    "admin", "administrator", "root", "test", "tester", "user", "users", "operator", "guest", "demo",
    "system", "sysadmin", "superuser", "default", "staff", "anonymous", "support", "service", "manager",
    "jutaku", "postgres", "sa", "dba", "security", "audit", "auditor", "ops", "operations", "registrar",
    "inquirer", "supervisor", "security_admin", "shared", "common", "temp", "tmp", "public", "info",
    "kanri", "kanrisha", "tanto", "tantousha", "itaku", "kosha", "vendor", "batch", "cron", "web", "api",
})

_SHAPE: Final = re.compile(r"[a-z][a-z0-9._-]{2,31}")
_DECOR: Final = re.compile(r"^[0-9._-]+|[0-9._-]+$")


class InvalidUsername(ValueError):
    """The username is not a personal, named account."""


def check_username(name: str) -> str:
    """Return ``name`` if it may name a personal account, else raise :class:`InvalidUsername`."""
    if not isinstance(name, str) or not _SHAPE.fullmatch(name):
        raise InvalidUsername(
            "利用者名は英小文字で始まる3〜32文字（英小文字・数字・. _ -）にしてください")
    free_text.check(name, "利用者名", InvalidUsername)
    core = _DECOR.sub("", name)
    if name in GENERIC_NAMES or core in GENERIC_NAMES or not core:
        raise InvalidUsername("共用・汎用の利用者名（admin, root, test, operator 等）は使えません。個人ごとの名前にしてください")
    return name
