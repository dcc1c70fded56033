"""The rejection list (差戻リスト) of a job: rows that were not applied, with code and Japanese reason.

Built from :class:`ImportRejection` rows, which the job wrote in the same transaction as its chunk, so
a resumed job's list is complete. It never contains a My Number (the model has no field for one).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from jutaku.accounts.actor import Actor
from jutaku.exchange.outbound import write_export
from jutaku.formats.csvio import FileInfo
from jutaku.formats.layouts import REJECTIONS
from jutaku.registry.models import ImportRejection


def _rows(job_id: int) -> Iterator[dict[str, str]]:
    for r in ImportRejection.objects.filter(job_id=job_id).order_by("line_no").iterator(chunk_size=5000):
        yield {"行番号": str(r.line_no), "受付番号": r.receipt_no, "個人ID": r.person_id, "結果コード": r.code,
               "理由": r.reason}


def write_rejections(job_id: int, path: Path, *, actor: Actor, encoding: str = "utf-8") -> tuple[Path, FileInfo]:
    return write_export(path, REJECTIONS, _rows(job_id), actor=actor, job_id=job_id, encoding=encoding)


def default_path(kind: str, job_id: int) -> Path:
    from jutaku import config

    return config.get().output_dir / f"rejections-{kind}-{job_id}.csv"
