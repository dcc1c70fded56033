from django.apps import AppConfig


class LinkageConfig(AppConfig):  # type: ignore[misc]
    name = "jutaku.linkage"
    label = "linkage"
    default_auto_field = "django.db.models.BigAutoField"
