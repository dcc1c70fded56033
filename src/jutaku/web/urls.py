"""URL map. The staff web UI arrives with the web UI issue; every view there declares a Permission."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
