"""The closed set of permissions. Every CLI command and every view declares exactly one.

Roles map to permissions in :data:`ROLE_PERMISSIONS` (the accounts issue fills in roles and users);
code never compares role names, it asks for a permission.
"""

from __future__ import annotations

import enum


class Permission(enum.StrEnum):
    # Set-up and operation (no personal data)
    SYSTEM_INIT = "system:init"
    KEYS_ROTATE = "keys:rotate"
    JOBS_VIEW = "jobs:view"
    # Audit
    AUDIT_VERIFY = "audit:verify"
    AUDIT_SEARCH = "audit:search"
    # Synthetic data (never touches the database)
    SIM_RUN = "sim:run"
    # Personal data
    REGISTRY_IMPORT = "registry:import"
    NUMBERS_REGISTER = "numbers:register"
    MEDIA_LEDGER_VIEW = "media:view"


#: Permissions that give access to personal data; never granted to security_admin, auditor, operations.
PERSONAL_DATA = frozenset({Permission.REGISTRY_IMPORT, Permission.NUMBERS_REGISTER})
