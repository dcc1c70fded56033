"""Password policy and checks (AUTH-06): Argon2id, length >= 12, a bundled common-password list,
no composition rules, no forced rotation. Validators are configured in settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError

POLICY_TEXT = (
    "パスワードの条件: 12文字以上（長いパスフレーズを推奨、256文字まで）。よく使われるパスワードや"
    "利用者名・氏名に似たものは使えません。文字種の組合せや定期変更は求めません。"
)

_dummy: list[str] = []


class WeakPassword(ValueError):
    """The password does not meet the policy; ``messages`` say why (Japanese)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages


def validate(password: str, user: Any = None) -> None:
    """Raise :class:`WeakPassword` unless ``password`` meets the policy."""
    if len(password) > settings.JUTAKU_PASSWORD_MAX_LENGTH:
        raise WeakPassword([f"パスワードは{settings.JUTAKU_PASSWORD_MAX_LENGTH}文字以内にしてください。"])
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise WeakPassword(list(exc.messages)) from None


def hash_password(password: str) -> str:
    return make_password(password)


def verify(password: str, encoded: str) -> bool:
    """Check without rehash-on-upgrade side effects."""
    return bool(check_password(password, encoded))


def burn(password: str) -> None:
    """Spend the same work as a real check (unknown users: no timing oracle, AUTH-05)."""
    if not _dummy:
        _dummy.append(make_password("jutaku-dummy-password-for-timing"))
    check_password(password, _dummy[0])
