from django.apps import AppConfig


class JobsConfig(AppConfig):  # type: ignore[misc]
    name = "jutaku.jobs"
    label = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jutaku.jobs import housekeeping, queue

        housekeeping.register("downloads", queue.expire)
