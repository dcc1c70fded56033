"""Source-level rules: approved randomness only, and no plaintext secrets in the tree (CRY-05)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "jutaku"


def python_files() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_random_module_is_used_only_by_the_synthetic_world() -> None:
    # Keys, nonces and tokens come from `secrets`/os.urandom; `random` is allowed only for synthetic data.
    offenders = [
        str(p.relative_to(SRC)) for p in python_files()
        if "random" in imported_modules(p) and "sim" not in p.relative_to(SRC).parts
    ]
    assert offenders == []


def test_no_weak_hash_algorithms_in_source() -> None:
    offenders = []
    for p in python_files():
        text = p.read_text(encoding="utf-8")
        for weak in ("hashlib.md5", "hashlib.sha1", "modes.ECB", "MD5PasswordHasher"):
            if weak in text:
                offenders.append(f"{p.relative_to(SRC)}: {weak}")
    assert offenders == []
