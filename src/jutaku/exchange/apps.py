from django.apps import AppConfig


class ExchangeConfig(AppConfig):  # type: ignore[misc]
    name = "jutaku.exchange"
    label = "exchange"
    default_auto_field = "django.db.models.BigAutoField"
