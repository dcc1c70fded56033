from django.apps import AppConfig


class AccountsConfig(AppConfig):  # type: ignore[misc]
    name = "jutaku.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jutaku.accounts import users  # noqa: F401 - registers the role_grant approval kind
