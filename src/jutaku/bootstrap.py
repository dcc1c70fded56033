"""Start Django for the command line (settings from :mod:`jutaku.config`)."""

from __future__ import annotations

import os


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jutaku.settings")
    import django

    django.setup()
