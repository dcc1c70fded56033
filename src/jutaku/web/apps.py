from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "jutaku.web"
    label = "web"
    verbose_name = "職員向け画面"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jutaku.jobs import housekeeping
        from jutaku.web.pending import purge

        housekeeping.register("pending-actions", purge)
