"""Whether a file may replace the database: the checks of a restore that need no database (pure; ADR 0019).

A restore replaces everything. So the file must be a backup *this* home's `jutaku backup` wrote, and
the restored database must be one this installation can open and trust, before anything is touched:

* a **manifest** describes every backup (:class:`Manifest`): its SHA-256 and size, the database vendor,
  the home it was taken in, the migrations applied in it and the ids of the keys its data needs;
* the file's bytes must match the manifest (a cut file, a changed byte: refused);
* it must come from this home (its random ``home_id``), for this vendor, with keys this key ring holds
  under the same ids (:func:`key_refusal`), and no migration this version does not know
  (:func:`unknown_migrations`: a newer schema is refused; an older one is migrated forward).

The same rules run twice: on the manifest before the copy is made, and on what the restored copy itself
holds before it replaces the database (a manifest is a claim; the copy is the fact).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

FORMAT: Final = "jutaku-backup-manifest/1"
VENDORS: Final = ("sqlite", "postgresql")

#: Why a restore was refused or undone (docs/outcome-codes.md keeps this table in step, by a test).
ERRORS: Final[Mapping[str, str]] = MappingProxyType({
    "R01": "このシステムのバックアップではありません（マニフェストがなく、バックアップ台帳にも同じハッシュのバックアップがありません）",
    "R02": "ファイルの大きさがマニフェストと異なります（途中で切れているか、別のファイルです）",
    "R03": "ファイルのハッシュ（SHA-256）がマニフェストと一致しません（壊れているか、書き換えられています）",
    "R04": "別のホームで作成されたバックアップです",
    "R05": "データベースの種類が異なります（SQLite と PostgreSQL）",
    "R06": "このバージョンより新しいスキーマのバックアップです（このバージョンでは開けません）",
    "R07": "このホームの鍵ではバックアップのデータを開けません（鍵IDが異なるか、廃止された鍵です）",
    "R08": "バックアップをデータベースとして開けません（壊れているか、形式が異なります）",
    "R09": "バックアップの監査証跡が検証できません（改ざん、または署名付きアンカーと一致しません）",
    "R10": "バックアップのスキーマを現在のバージョンに更新できません",
    "R11": "切り替え後の確認に失敗しました",
    "R12": "データベースを切り替えられません（他の処理が実行中か、他のプロセスが接続しているか、権限がありません）",
    "R13": "マニフェストを読めません（形式が不正です）",
    "R14": "リストアの準備中に予期しない問題が発生しました（リストアしたコピーは破棄しました）",
})


class RestoreRefused(Exception):
    """A restore refused by rule ``code``; ``detail`` says what was found (Japanese, no personal data)."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        text = ERRORS[code] + (f": {detail}" if detail else "")
        super().__init__(f"[{code}] {text}")

    @property
    def text(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Keys:
    """Key ids (name and one-way fingerprint, never material): the index key and the KEKs by version."""

    index: str
    keks: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Manifest:
    """What `jutaku backup` says about a backup file. ``home_id``, ``keys`` and ``migrations`` are None in
    a catalogue line written before manifests existed: the restored copy is then the only evidence."""

    sha256: str
    size: int
    vendor: str | None = None
    home_id: str | None = None
    keys: Keys | None = None
    migrations: Mapping[str, tuple[str, ...]] | None = None
    file: str = ""
    created_at: str = ""
    created_by: str = ""
    audit_seq: int | None = None

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"format": FORMAT, "file": self.file, "sha256": self.sha256, "bytes": self.size,
                                  "vendor": self.vendor, "home_id": self.home_id, "created_at": self.created_at,
                                  "created_by": self.created_by, "audit_seq": self.audit_seq}
        if self.keys is not None:
            out["keys"] = {"index": self.keys.index, "kek": {str(v): k for v, k in sorted(self.keys.keks.items())}}
        if self.migrations is not None:
            out["migrations"] = {app: list(names) for app, names in sorted(self.migrations.items())}
        return out


def parse(data: object) -> Manifest:
    """A manifest from its JSON form; :class:`RestoreRefused` ``R13`` for anything else."""
    try:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("format")
        keys = data.get("keys")
        migrations = data.get("migrations")
        return Manifest(
            sha256=_hex(data["sha256"]), size=int(data["bytes"]), vendor=_vendor(data.get("vendor")),
            home_id=_text(data.get("home_id")), file=str(data.get("file", ""))[:200],
            created_at=str(data.get("created_at", ""))[:40], created_by=str(data.get("created_by", ""))[:150],
            audit_seq=None if data.get("audit_seq") is None else int(data["audit_seq"]),
            keys=None if keys is None else Keys(str(keys["index"]), {int(v): str(k) for v, k in keys["kek"].items()}),
            migrations=None if migrations is None else {str(app): tuple(str(n) for n in names)
                                                        for app, names in migrations.items()})
    except (KeyError, TypeError, ValueError, AttributeError):
        raise RestoreRefused("R13") from None


def _hex(value: object) -> str:
    text = str(value)
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise ValueError("sha256")
    return text


def _vendor(value: object) -> str | None:
    if value is None:
        return None
    if value not in VENDORS:
        raise ValueError("vendor")
    return str(value)


def _text(value: object) -> str | None:
    return None if value is None else str(value)[:64]


def file_refusal(manifest: Manifest, *, sha256: str, size: int) -> RestoreRefused | None:
    """The file against its manifest: the size first (a cut copy says so), then every byte (the hash)."""
    if size != manifest.size:
        return RestoreRefused("R02", f"マニフェスト {manifest.size:,} バイト、ファイル {size:,} バイト")
    if sha256 != manifest.sha256:
        return RestoreRefused("R03")
    return None


def unknown_migrations(applied: Mapping[str, Iterable[str]], known: Mapping[str, Iterable[str]]) -> list[str]:
    """``app.name`` of every applied migration this version does not have: a schema newer than the code."""
    return sorted(f"{app}.{name}" for app, names in applied.items() for name in names
                  if name not in set(known.get(app, ())))


def key_refusal(needed: Keys, held: Keys) -> RestoreRefused | None:
    """The backup's keys against the key ring: the same index key (its blind index), and every KEK that
    wraps a data key in it, under the same id (a retired KEK: the backup's numbers cannot be opened)."""
    if needed.index != held.index:
        return RestoreRefused("R07", "検索索引の鍵 (index) が異なります")
    for version, key_id in sorted(needed.keks.items()):
        have = held.keks.get(version)
        if have is None:
            return RestoreRefused("R07", f"鍵 kek-{version:04d} がありません（廃止済みか、別のホームの鍵です）")
        if have != key_id:
            return RestoreRefused("R07", f"鍵 kek-{version:04d} の鍵IDが異なります")
    return None


def manifest_refusal(manifest: Manifest, *, home_id: str | None, vendor: str, held: Keys,
                     known: Mapping[str, Iterable[str]]) -> RestoreRefused | None:
    """Everything the manifest lets us check before the copy is made (the file's bytes are checked apart)."""
    if manifest.home_id is not None and manifest.home_id != home_id:
        return RestoreRefused("R04")
    if manifest.vendor is not None and manifest.vendor != vendor:
        return RestoreRefused("R05", f"バックアップ {manifest.vendor}、このホーム {vendor}")
    if manifest.migrations is not None and (newer := unknown_migrations(manifest.migrations, known)):
        return RestoreRefused("R06", ", ".join(newer[:5]))
    if manifest.keys is not None:
        return key_refusal(manifest.keys, held)
    return None
