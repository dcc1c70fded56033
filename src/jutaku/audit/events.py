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
    MEDIA_PLAIN = "media:plain"  # specific personal information written in clear at a person's request
    MEDIA_HANDOVER = "media:handover"  # the file copied onto a medium and carried (medium id, carrier)
    MEDIA_ERASE = "media:erase"  # its erasure from the medium confirmed after the transfer
    OUTPUT_PURGE = "output:purge"  # files the system wrote, removed when their retention ended
    # Persons and numbers
    PERSON_IMPORT = "person:import"
    PERSON_REJECT = "person:reject"
    NUMBER_STORE = "number:store"
    NUMBER_READ = "number:read"
    NUMBER_SEARCH = "number:search"
    NUMBER_CHANGE = "number:change"
    ALLOWLIST_LOAD = "allowlist:load"
    LINKAGE_REQUEST = "linkage:request"
    LINKAGE_STORE = "linkage:store"
    LINKAGE_REJECT = "linkage:reject"
    INQUIRY_REQUEST = "inquiry:request"
    INQUIRY_STORE = "inquiry:store"
    INQUIRY_REJECT = "inquiry:reject"
    INQUIRY_REFUSE = "inquiry:refuse"
    EXPORT_BUSINESS = "export:business"
    JUKI_REQUEST = "juki:request"
    JUKI_STORE = "juki:store"
    JUKI_REJECT = "juki:reject"
    PERSON_DECEASED = "person:deceased"
    PERSON_STATUS_CORRECT = "person:status_correct"
    NON_DISCLOSURE_SET = "non_disclosure:set"
    NON_DISCLOSURE_CLEAR = "non_disclosure:clear"
    CONSENT_RECORD = "consent:record"
    NUMBER_DELETE = "number:delete"
    STATS_VIEW = "stats:view"
    SUBJECT_REQUEST = "subject:request"
    SUBJECT_HANDLE = "subject:handle"
    SUBJECT_DISCLOSE = "subject:disclose"
    SUBJECT_LIFT = "subject:lift"  # a use suspension lifted (dual control)
    BACKUP_RUN = "backup:run"
    RESTORE_RUN = "restore:run"
    BACKUP_PRUNE = "backup:prune"
    # The audit trail itself
    AUDIT_VERIFY = "audit:verify"
    AUDIT_SEARCH = "audit:search"
    AUDIT_CHECKPOINT = "audit:checkpoint"
    AUDIT_ANCHOR_KEY = "audit:anchor_key"
    # Simulator and demo
    SIM_WORLD = "sim:world"
    DEMO_RUN = "demo:run"
    # Access control
    ACCESS_DENIED = "access:denied"
    # Accounts and sessions (issue 3, ADR 0007)
    AUTH_LOGIN = "auth:login"
    AUTH_LOGIN_FAILED = "auth:login_failed"
    AUTH_LOCKED = "auth:locked"
    AUTH_UNLOCK = "auth:unlock"
    AUTH_LOGOUT = "auth:logout"
    AUTH_SESSION_END = "auth:session_end"
    AUTH_SESSION_REFUSED = "auth:session_refused"  # a token presented where it was not issued (ADR 0018)
    USER_CREATE = "user:create"
    USER_DISABLE = "user:disable"
    USER_ENABLE = "user:enable"
    USER_ROLES = "user:roles"
    USER_MFA_RESET = "user:mfa_reset"
    TERMINAL_ADD = "terminal:add"
    TERMINAL_REMOVE = "terminal:remove"
    APPROVAL_REQUEST = "approval:request"
    APPROVAL_APPROVE = "approval:approve"
    APPROVAL_REJECT = "approval:reject"
    APPROVAL_EXECUTE = "approval:execute"
    APPROVAL_TARGETS = "approval:targets"  # the persons a request affects, read before deciding (issue 14 item 8)
    ACCESS_REVIEW = "access:review"
    # Web UI (issue 7, ADR 0012)
    AUTH_STEP_UP = "auth:step_up"
    PERSON_SEARCH = "person:search"
    PERSON_VIEW = "person:view"
    NUMBER_UNMASK = "number:unmask"
    TASK_SUBMIT = "task:submit"
    FILE_DOWNLOAD = "file:download"
    FILE_EXPIRE = "file:expire"
    # Web UI: audit, users, statistics (issue 7 item 3)
    AUDIT_EXPORT = "audit:export"
    # The installation window of a new home (issue 14 item 1, ADR 0015)
    INSTALL_OPEN = "install:open"
    INSTALL_GRANT = "install:grant"
    INSTALL_CLOSE = "install:close"
    # Passwords an administrator sets are changed by their user at the first sign-in (issue 14 item 14)
    USER_PASSWORD_RESET = "user:password_reset"  # noqa: S105 - an event name
    AUTH_PASSWORD_CHANGE = "auth:password_change"  # noqa: S105 - an event name


#: Records followed by a signed anchor as soon as they commit (ADR 0014): what an insider would most want to
#: erase. Every other record is anchored at the end of its job or command, or within minutes.
ANCHORED_EVENTS = frozenset({
    AuditEvent.APPROVAL_REQUEST, AuditEvent.APPROVAL_APPROVE, AuditEvent.APPROVAL_REJECT,
    AuditEvent.APPROVAL_EXECUTE, AuditEvent.USER_CREATE, AuditEvent.USER_ROLES, AuditEvent.USER_DISABLE,
    AuditEvent.USER_ENABLE, AuditEvent.USER_MFA_RESET, AuditEvent.AUTH_UNLOCK, AuditEvent.TERMINAL_ADD,
    AuditEvent.TERMINAL_REMOVE, AuditEvent.KEYS_ROTATE, AuditEvent.KEYS_RETIRE, AuditEvent.KEYS_SHRED,
    AuditEvent.NUMBER_UNMASK, AuditEvent.EXPORT_BUSINESS, AuditEvent.AUDIT_EXPORT, AuditEvent.SUBJECT_DISCLOSE,
    AuditEvent.BACKUP_RUN, AuditEvent.RESTORE_RUN, AuditEvent.INSTALL_GRANT, AuditEvent.INSTALL_CLOSE,
    AuditEvent.NON_DISCLOSURE_CLEAR, AuditEvent.SUBJECT_LIFT, AuditEvent.PERSON_STATUS_CORRECT,
    AuditEvent.MEDIA_PLAIN, AuditEvent.USER_PASSWORD_RESET,
})
