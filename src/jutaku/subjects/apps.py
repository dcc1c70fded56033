from django.apps import AppConfig


class SubjectsConfig(AppConfig):  # type: ignore[misc]
    name = "jutaku.subjects"
    label = "subjects"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jutaku.subjects.suspension import register

        register()
