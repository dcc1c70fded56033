from django.apps import AppConfig


class RetentionConfig(AppConfig):  # type: ignore[misc]
    name = "jutaku.retention"
    label = "retention"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jutaku.accounts.actor import SYSTEM
        from jutaku.jobs import housekeeping
        from jutaku.retention.catalogue import prune_due
        from jutaku.retention.deletion import register

        register()
        # Backups past their retention go at the start of every command and worker turn, as expired
        # outputs do (issue 12 item 5: "run by the same scheduler as the outputs").
        housekeeping.register("backups", lambda now: prune_due(now, actor=SYSTEM))
