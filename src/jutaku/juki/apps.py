from django.apps import AppConfig


class JukiConfig(AppConfig):  # type: ignore[misc]
    name = "jutaku.juki"
    label = "juki"
    default_auto_field = "django.db.models.BigAutoField"
