from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "jutaku.web"
    label = "web"
    verbose_name = "職員向け画面"
