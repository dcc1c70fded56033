from django.apps import AppConfig


class ExchangeConfig(AppConfig):  # type: ignore[misc]
    name = "jutaku.exchange"
    label = "exchange"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jutaku.exchange.outputs import purge_expired
        from jutaku.jobs import housekeeping

        housekeeping.register("outputs", lambda now: purge_expired(now).handled)
