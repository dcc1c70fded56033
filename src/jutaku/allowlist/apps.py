from django.apps import AppConfig


class AllowlistConfig(AppConfig):  # type: ignore[misc]
    name = "jutaku.allowlist"
    label = "allowlist"
    default_auto_field = "django.db.models.BigAutoField"
