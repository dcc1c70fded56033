"""The frame shared by the register imports (targets, procedures): whole-file checks, media ledger,
duplicate keys found in the same pass, then the chunked job."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from jutaku.accounts.actor import Actor
from jutaku.exchange import inbound
from jutaku.exchange.media import MediaFile, record_media, record_refused
from jutaku.formats.csvio import Row
from jutaku.formats.errors import FileRejected
from jutaku.formats.layouts import Layout
from jutaku.jobs.runner import Handler, JobResult, run_job


@dataclass(frozen=True)
class ImportResult:
    job: JobResult
    file_sha256: str
    rows: int


@dataclass
class DuplicateKeys:
    """Keys seen more than once in a file; fed row by row during the whole-file check."""

    key: Callable[[dict[str, str]], Hashable]
    seen: set[Hashable] = field(default_factory=set)
    duplicates: set[Hashable] = field(default_factory=set)

    def visit(self, row: Row) -> None:
        k = self.key(row.values)
        if k in self.seen:
            self.duplicates.add(k)
        self.seen.add(k)


def run_import(path: Path, layout: Layout, kind: str, *, key: Callable[[dict[str, str]], Hashable] | None,
               handler: Callable[[set[Hashable]], Handler[Row]], actor: Actor, dry_run: bool = False,
               progress: bool = True, encoding: str | None = None, chunk_size: int = 5000) -> ImportResult:
    """Check ``path`` whole (refused files go to the media ledger with their code), record the read,
    then apply it as job ``kind`` with ``handler(duplicate_keys)``. Raises ``FileRejected``.

    ``key=None``: no duplicate keys are gathered (imports that apply rows in order and need none; at
    millions of rows the set of keys would be most of the memory)."""
    dupes = DuplicateKeys(key or (lambda values: None))
    try:
        inb = inbound.inspect(path, layout, encoding=encoding, visit=dupes.visit if key is not None else None)
    except FileRejected as exc:
        record_refused(path, layout.name, exc.code, actor=actor)
        raise
    dupes.seen.clear()
    with transaction.atomic():
        record_media("read", MediaFile(path, layout.name, inb.info.sha256, inb.info.size, inb.info.rows,
                                       inb.encrypted, inb.key_id), actor=actor)
    with inb.rows() as reader:
        result = run_job(kind, items=reader, input_sha256=inb.info.sha256, input_name=path.name, actor=actor,
                         handler=handler(dupes.duplicates), total=inb.info.rows, dry_run=dry_run,
                         progress=progress, chunk_size=chunk_size)
    return ImportResult(job=result, file_sha256=inb.info.sha256, rows=inb.info.rows)
