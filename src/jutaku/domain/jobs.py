"""A job's status as staff read it, and the command that continues it (issue 14 item 12; pure).

A job row says ``running`` from its start until its process records the end. A process killed by a signal
(SIGKILL, a power cut) records nothing: its row says ``running`` forever, although nothing runs. What runs
is known from outside the row — the process holding the job kind's lock (:mod:`jutaku.jobs.locks`) — so the
status shown is :func:`status` of the row *and* that fact: ``running`` without a live owner is
**中断** (interrupted), like a run stopped by Ctrl-C or recorded as crashed; ``failed`` (a chunk that
raised, rolled back) is 失敗. Both continue where they stopped when the same command runs again over the
same input (REL-01): :func:`resume_hint` says which.
"""

from __future__ import annotations

import re
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    REFUSED = "refused"


LABELS: Final = MappingProxyType({
    Status.QUEUED: "待機中", Status.RUNNING: "実行中", Status.COMPLETED: "完了", Status.INTERRUPTED: "中断",
    Status.FAILED: "失敗", Status.REFUSED: "拒否",
})
#: The name staff read for each job kind (the ledger, `jutaku jobs`, a progress bar); the kind itself is an
#: identifier (lock names, ``--kind``). A unit test finds every kind a job runs under and fails on one
#: without a name here.
KIND_LABELS: Final = MappingProxyType({
    "import-targets": "対象者抽出の取込", "import-procedures": "手続抽出の取込",
    "register-kit": "個人番号届出データの登録", "register-portal": "マイナポータル申請データの登録",
    "linkage-request": "統合利用番号取得要求の作成", "linkage-import": "統合利用番号取得結果の取込",
    "inquiry-create": "情報照会要求の作成", "inquiry-import": "情報照会結果の取込",
    "juki-request": "住基ネット照会の作成", "juki-import": "住基ネット照会結果の取込",
    "bulk-deletion": "個人番号等の一括削除",
})
#: Failure codes that mean the run was stopped, not that an item failed (jutaku.jobs.runner).
STOPPED_CODES: Final = frozenset({"J_INTERRUPTED", "J_CRASHED"})
#: The command that continues each kind, by what the row records (``{file}``: its input's name).
_FILE_COMMANDS: Final = MappingProxyType({
    "import-targets": "jutaku import targets {file}", "import-procedures": "jutaku import procedures {file}",
    "register-kit": "jutaku register kit {file}", "register-portal": "jutaku register portal {file}",
    "linkage-import": "jutaku linkage import {file}", "inquiry-import": "jutaku inquiry import {file}",
    "juki-import": "jutaku juki import {file}",
})
_DELETION: Final = re.compile(r"deletion-(\d{1,18})")
_INQUIRY: Final = re.compile(r"([A-Z0-9]{1,20})-(\d{4})")
_JUKI: Final = re.compile(r"juki-(\d{4})")
WITHHELD: Final = "(name withheld)"


def kind_label(kind: str) -> str:
    """A job kind by its name; a kind without one (a test's) is shown as it is."""
    return KIND_LABELS.get(kind, kind)


def status(state: str, error_code: str = "", *, owner_alive: bool) -> Status:
    """The status to show for a row in ``state``; ``owner_alive``: a live process holds the kind's lock."""
    if state == Status.RUNNING and not owner_alive:
        return Status.INTERRUPTED
    if state == Status.FAILED and error_code in STOPPED_CODES:
        return Status.INTERRUPTED
    try:
        return Status(state)
    except ValueError:
        return Status.FAILED  # a state this version does not know is not shown as fine


def resume_hint(kind: str, input_name: str, *, dry_run: bool, started_in_browser: bool = False) -> str:
    """What continues a job that was interrupted or failed (Japanese, for the ledger and `jutaku jobs`)."""
    if dry_run:
        return "試行（--dry-run）は続きから再開しません。必要ならもう一度試行してください。"
    if started_in_browser:
        return "画面から開始した処理です: jutaku worker を起動すると続きから処理します。"
    command = command_for(kind, input_name)
    if command is None:
        return "同じ入力で同じ操作をもう一度実行すると、続きから処理します。"
    if kind in _FILE_COMMANDS or kind == "bulk-deletion":
        return f"続きから処理するには: {command}"
    return f"やり直すには（ファイルは作り直します）: {command}"


def command_for(kind: str, input_name: str) -> str | None:
    """The command line that runs ``kind`` over the same input again, or None for a kind without one."""
    file = "<ファイル>" if input_name in ("", WITHHELD) else _quoted(input_name)
    if kind in _FILE_COMMANDS:
        return _FILE_COMMANDS[kind].format(file=file)
    if kind == "bulk-deletion" and (m := _DELETION.fullmatch(input_name)):
        return f"jutaku delete run {m.group(1)}"
    if kind == "inquiry-create" and (m := _INQUIRY.fullmatch(input_name)):
        return f"jutaku inquiry create --procedure {m.group(1)} --year {m.group(2)} --out <ファイル>"
    if kind == "juki-request" and (m := _JUKI.fullmatch(input_name)):
        return f"jutaku juki request --year {m.group(1)} --out <ファイル>"
    if kind == "linkage-request":
        return "jutaku linkage request --out <ファイル>"
    return None


def _quoted(name: str) -> str:
    """A file name as a shell word (quoted when it holds anything but plain characters)."""
    if re.fullmatch(r"[A-Za-z0-9._+,@%=-]+", name):
        return name
    return "'" + name.replace("'", "'\"'\"'") + "'"
