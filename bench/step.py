"""One benchmark step in its own process (so /usr/bin/time reports that step's own peak memory).

Calls the services directly with the system actor: the benchmark measures the batch paths, not the
sign-in. Usage: ``python bench/step.py init|targets FILE|kit FILE`` with JUTAKU_HOME etc. set.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def main() -> None:
    from jutaku.bootstrap import setup_django

    setup_django()
    from jutaku import config
    from jutaku.accounts.actor import SYSTEM

    what = sys.argv[1]
    if what == "init":
        from jutaku.system_commands import initialise_home

        initialise_home(config.get().home, mode=config.get().mode)
    elif what == "targets":
        from jutaku.registry.targets import import_targets

        print(import_targets(Path(sys.argv[2]), actor=SYSTEM, progress=False).job.counts)
    elif what == "kit":
        from jutaku.registry.registration import register_numbers

        print(register_numbers(Path(sys.argv[2]), source="kit", actor=SYSTEM, progress=False).job.counts)
    else:
        raise SystemExit(f"unknown step {what}")


if __name__ == "__main__":
    main()
