"""Private incident files: the traceback of an unexpected error goes to ``<home>/logs/incident-<id>.log``
(mode 0600), never to a terminal, a page or a shared log, where it could show data (REL-05, LOG-02).

The CLI, the task worker and the web application's error log all use :func:`log_incident`; the user
sees only the incident id.
"""

from __future__ import annotations

import logging
import os
import secrets
import traceback
from datetime import UTC, datetime

from jutaku.domain.jst import format_file_stamp


def log_incident(exc: BaseException) -> str:
    """Write the traceback of ``exc`` to a new private incident file; return the incident id."""
    from jutaku import config

    incident = f"{format_file_stamp(datetime.now(UTC))}-{secrets.token_hex(4)}"  # JST, as people read it
    logs = config.get().home / "logs"
    try:
        logs.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(logs / f"incident-{incident}.log", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join(traceback.format_exception(exc)))
    except OSError:
        pass
    return incident


class IncidentHandler(logging.Handler):
    """A logging handler for the web application's error loggers: a record with an exception becomes an
    incident file; the shared log gets one line with the incident id and no message text (the message of
    ``django.request`` names the path, which may carry a query)."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            incident = log_incident(record.exc_info[1])
            line = f"jutaku: unexpected error, incident {incident} (traceback in the home's logs folder)\n"
        else:
            line = f"jutaku: {record.levelname} from {record.name}\n"
        try:
            os.write(2, line.encode("utf-8"))
        except OSError:
            self.handleError(record)
