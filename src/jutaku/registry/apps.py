from django.apps import AppConfig


class RegistryConfig(AppConfig):  # type: ignore[misc]
    name = "jutaku.registry"
    label = "registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jutaku.registry.non_disclosure import register

        register()
