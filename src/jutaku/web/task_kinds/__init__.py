"""The task kinds of the screens, one module per screen area (each registers its kinds with
:func:`jutaku.web.tasks.kind` when imported; :func:`jutaku.web.tasks.all_kinds` imports them all)."""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
