"""The backup settings are read once, in jutaku.config (ADR 0013): retention in days, the backup folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from jutaku.config import ConfigurationError, load


def test_backups_default_to_ninety_days_in_the_homes_backups_folder(tmp_path: Path) -> None:
    cfg = load({"JUTAKU_HOME": str(tmp_path)})
    assert cfg.backup_retention_days == 90 and cfg.backup_dir == tmp_path.resolve() / "backups"


def test_the_retention_and_the_folder_can_be_set(tmp_path: Path) -> None:
    cfg = load({"JUTAKU_HOME": str(tmp_path), "JUTAKU_BACKUP_RETENTION_DAYS": "35",
                "JUTAKU_BACKUP_DIR": str(tmp_path / "offsite")})
    assert cfg.backup_retention_days == 35 and cfg.backup_dir == (tmp_path / "offsite").resolve()


@pytest.mark.parametrize("bad", ["0", "3651", "ninety", "-5"])
def test_a_retention_that_is_not_1_to_3650_days_stops_start_up(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigurationError, match="JUTAKU_BACKUP_RETENTION_DAYS"):
        load({"JUTAKU_HOME": str(tmp_path), "JUTAKU_BACKUP_RETENTION_DAYS": bad})
