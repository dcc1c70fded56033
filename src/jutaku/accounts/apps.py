from django.apps import AppConfig


class AccountsConfig(AppConfig):  # type: ignore[misc]
    name = "jutaku.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
