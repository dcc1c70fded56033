from django.apps import AppConfig


class CryptoConfig(AppConfig):
    name = "jutaku.crypto"
    label = "crypto"
    default_auto_field = "django.db.models.BigAutoField"
