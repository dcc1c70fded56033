"""The task kinds of the screens (registered with :func:`jutaku.web.tasks.kind`)."""

from __future__ import annotations
