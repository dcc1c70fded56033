from django.apps import AppConfig


class LinkageConfig(AppConfig):  # type: ignore[misc]
    name = "jutaku.linkage"
    label = "linkage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jutaku.linkage.export import register

        register()
