from django.apps import AppConfig


class JobsConfig(AppConfig):  # type: ignore[misc]
    name = "jutaku.jobs"
    label = "jobs"
    default_auto_field = "django.db.models.BigAutoField"
