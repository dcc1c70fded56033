"""Loading and reading the legal allow-list (models docstring). Deny by default: with no active version,
or for a triple not in it, nothing is permitted.

**Packaged versions.** Jutaku ships its starting list as a sequence of files, oldest first
(:data:`PACKAGED`), never edited in place: a correction is a new file. ``jutaku init`` — on a new home, and
again on an existing home when upgrading — runs :func:`upgrade_packaged`, which loads the newest packaged
version through the normal versioned load (audited with its SHA-256) when no version is active, or when
the active version is an older *packaged* version and the newest one has never been loaded. A list the
operator loaded (a reviewed real list, or a packaged version deliberately re-loaded after the newest was
applied) is never replaced by an upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Final

from django.db import transaction

from jutaku.accounts.actor import Actor
from jutaku.accounts.errors import require
from jutaku.accounts.permissions import Permission
from jutaku.allowlist.models import AllowListVersion, AllowRule
from jutaku.audit.events import AuditEvent
from jutaku.audit.service import record
from jutaku.domain import free_text
from jutaku.exchange.media import MediaFile, record_media, record_refused
from jutaku.formats.allowlist import Rule, parse_allowlist
from jutaku.formats.errors import FileRejected
from jutaku.formats.files import read_limited

INTERFACE = "allowlist"
#: The packaged versions, oldest first, with what each changed (the load's note).
#: The largest allow-list file read (a legal table of a few hundred rows is a few tens of KiB).
MAX_BYTES: Final = 16 * 1024**2
PACKAGED: Final = (
    ("allowlist.csv", "packaged starting list"),
    ("allowlist-v2.csv", "packaged correction: 住民票関係情報 needs no consent (seed II-3 ⑧ 連絡先等情報)"),
)


@dataclass(frozen=True)
class LoadResult:
    version_id: int
    sha256: str
    rules: int
    unchanged: bool  # the active version already had this content


def load_allowlist(data: bytes, *, file_name: str, actor: Actor, note: str = "") -> LoadResult:
    """Check ``data`` whole and make it the active version (audited, with its hash). Same content as
    the active version: a reported no-op. Raises :class:`FileRejected`, or
    :class:`~jutaku.domain.free_text.MyNumberInText` for a note (or file name) holding a My Number."""
    free_text.check(note, "説明")
    file_name = free_text.shown(file_name)
    parsed = parse_allowlist(data)
    with transaction.atomic():
        current = AllowListVersion.objects.select_for_update().filter(active=True).first()
        if current is not None and current.sha256 == parsed.sha256:
            return LoadResult(current.pk, current.sha256, current.rules, unchanged=True)
        AllowListVersion.objects.filter(active=True).update(active=False)
        version = AllowListVersion.objects.create(
            sha256=parsed.sha256, file_name=file_name[:255], rules=len(parsed.rules), loaded_by=actor.username,
            terminal=actor.terminal, loaded_at=datetime.now(UTC), active=True, note=note[:200])
        AllowRule.objects.bulk_create([AllowRule(version=version, **_fields(r)) for r in parsed.rules])
        record(AuditEvent.ALLOWLIST_LOAD, actor=actor, objects=[f"allowlist:{version.pk}"],
               detail={"sha256": parsed.sha256, "rules": len(parsed.rules),
                       "replaced": current.pk if current is not None else None})
    return LoadResult(version.pk, parsed.sha256, len(parsed.rules), unchanged=False)


def load_allowlist_file(path: Path, *, actor: Actor, note: str = "", display_name: str = "") -> LoadResult:
    """:func:`load_allowlist` from a file, recorded in the media ledger (refused files too).
    ``display_name``: the name the user gave the file, when ``path`` is a stored upload's generated name."""
    free_text.check(note, "説明")
    try:
        data = read_limited(path, MAX_BYTES)
        result = load_allowlist(data, file_name=display_name or path.name, actor=actor, note=note)
    except FileRejected as exc:
        record_refused(path, INTERFACE, exc.code, actor=actor)
        raise
    with transaction.atomic():
        record_media("read", MediaFile(path, INTERFACE, result.sha256, len(data), result.rules), actor=actor)
    return result


def packaged_bytes(name: str) -> bytes:
    return resources.files("jutaku.data").joinpath(name).read_bytes()


def load_packaged(actor: Actor) -> LoadResult:
    """The newest packaged allow-list (``../shared/spec/allowlist.csv``) made active (a no-op when it is)."""
    name, note = PACKAGED[-1]
    return load_allowlist(packaged_bytes(name), file_name=f"{name} (packaged)", actor=actor, note=note)


def upgrade_packaged(actor: Actor) -> LoadResult | None:
    """Run by ``jutaku init`` (module docstring): the newest packaged version made active on a new home or
    over an older packaged version; ``None`` when nothing is to change. Idempotent."""
    name, _ = PACKAGED[-1]
    newest = parse_allowlist(packaged_bytes(name)).sha256
    current = active_version()
    if current is not None:
        older = {parse_allowlist(packaged_bytes(n)).sha256 for n, _ in PACKAGED[:-1]}
        if current.sha256 not in older or AllowListVersion.objects.filter(sha256=newest).exists():
            return None
    return load_packaged(actor)


def _fields(rule: Rule) -> dict[str, object]:
    return {"housing_category": rule.housing_category, "procedure_code": rule.procedure_code,
            "procedure_name": rule.procedure_name, "info_code": rule.info_code, "info_name": rule.info_name,
            "provider": rule.provider, "legal_basis": rule.legal_basis, "requires_consent": rule.requires_consent,
            "status": rule.status}


def active_version() -> AllowListVersion | None:
    return AllowListVersion.objects.filter(active=True).first()


@dataclass(frozen=True)
class Overview:
    version: AllowListVersion | None
    rules: list[AllowRule]


def overview(*, actor: Actor, procedure: str = "") -> Overview:
    """The active version and its rules (of one 手続コード when given), for `allowlist show` and its screen."""
    require(actor, Permission.ALLOWLIST_VIEW)
    version = active_version()
    if version is None:
        return Overview(None, [])
    rules = AllowRule.objects.filter(version=version)
    if procedure:
        rules = rules.filter(procedure_code=procedure)
    return Overview(version, list(rules))


def active_rules() -> list[AllowRule]:
    """The rules of the active version (none when no version is active: deny by default)."""
    return list(AllowRule.objects.filter(version__active=True))


def permitted_procedure_codes() -> frozenset[str]:
    """手続コード that appear in the active allow-list."""
    return frozenset(AllowRule.objects.filter(version__active=True).values_list("procedure_code", flat=True))


def permitted_information(procedure_code: str) -> dict[str, dict[str, AllowRule]]:
    """{住宅区分 code: {特定個人情報名コード: rule}} permitted for ``procedure_code``."""
    out: dict[str, dict[str, AllowRule]] = {}
    for rule in AllowRule.objects.filter(version__active=True, procedure_code=procedure_code):
        out.setdefault(rule.housing_category, {})[rule.info_code] = rule
    return out
