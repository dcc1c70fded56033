"""The closed vocabulary of audit events, ``subject:action``.

Values are stored in :class:`jutaku.audit.models.AuditRecord.event`; they may be added, never removed
or renamed (old records must keep verifying and stay searchable).
"""

from __future__ import annotations

import enum


class AuditEvent(enum.StrEnum):
    # System and keys
    SYSTEM_INIT = "system:init"
    KEYS_INIT = "keys:init"
    KEYS_ROTATE = "keys:rotate"
    KEYS_RETIRE = "keys:retire"
    KEYS_SHRED = "keys:shred"
    # Batch jobs
    JOB_START = "job:start"
    JOB_CHUNK = "job:chunk"
    JOB_RESUME = "job:resume"
    JOB_FINISH = "job:finish"
    JOB_FAIL = "job:fail"
    JOB_REFUSE = "job:refuse"
    # External media (ledger)
    MEDIA_WRITE = "media:write"
    MEDIA_READ = "media:read"
    # Persons and numbers
    PERSON_IMPORT = "person:import"
    PERSON_REJECT = "person:reject"
    NUMBER_STORE = "number:store"
    NUMBER_READ = "number:read"
    NUMBER_SEARCH = "number:search"
    # The audit trail itself
    AUDIT_VERIFY = "audit:verify"
    AUDIT_SEARCH = "audit:search"
    AUDIT_CHECKPOINT = "audit:checkpoint"
    # Simulator and demo
    SIM_WORLD = "sim:world"
    DEMO_RUN = "demo:run"
    # Access control
    ACCESS_DENIED = "access:denied"
