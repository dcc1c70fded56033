"""Exceptions of the job runner. Their messages never contain personal data."""

from __future__ import annotations


class JobRefused(Exception):
    """The run was refused before any item was applied (recorded as a ``refused`` job, JOB_REFUSE)."""

    code = "J_REFUSED"


class JobBusy(JobRefused):
    """Another run of the same kind holds the lock (REL-03)."""

    code = "J_BUSY"

    def __init__(self, kind: str, holder: str) -> None:
        self.kind = kind
        self.holder = holder
        super().__init__(
            f"another '{kind}' job is running ({holder}); wait for it to finish, then run again "
            "(a job whose process died is resumed automatically)"
        )


class JobOptionsConflict(JobRefused):
    """An unfinished job over the same input was started with other options; resuming would mix them."""

    code = "J_OPTIONS"

    def __init__(self, kind: str, job_id: int) -> None:
        self.kind = kind
        self.job_id = job_id
        super().__init__(
            f"unfinished '{kind}' job #{job_id} over this input was started with different options; "
            "run it again with the same options to resume it"
        )


class JobError(Exception):
    """Raised by a handler to fail the job with a code and a message that carry no personal data.

    Any other exception fails the job too, but only its class name is kept: exception text may quote
    the input.
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")
