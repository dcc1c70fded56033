from django.apps import AppConfig


class RetentionConfig(AppConfig):  # type: ignore[misc]
    name = "jutaku.retention"
    label = "retention"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jutaku.retention.deletion import register

        register()
