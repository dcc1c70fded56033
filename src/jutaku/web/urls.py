"""URL map of the staff web UI. Every view declares a Permission (jutaku.web.access); the architecture test
walks this map. Each screen area keeps its own ``urlpatterns`` in ``jutaku.web.views.<area>``."""

from django.urls import URLPattern, URLResolver, include, path

from jutaku.web.views import (
    approvals,
    audit,
    auth,
    dashboard,
    deletion,
    files,
    person_actions,
    persons,
    stats,
    subjects,
    tasks,
    users,
)

web_patterns: list[URLPattern | URLResolver] = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    path("session/keepalive/", auth.keepalive, name="keepalive"),
    path("step-up/", auth.step_up, name="step-up"),
    path("password/", auth.password, name="password"),
    *tasks.urlpatterns,
    *persons.urlpatterns,
    *person_actions.urlpatterns,
    *files.urlpatterns,
    *approvals.urlpatterns,
    *deletion.urlpatterns,
    *subjects.urlpatterns,
    *stats.urlpatterns,
    *audit.urlpatterns,
    *users.urlpatterns,
]

urlpatterns: list[URLPattern | URLResolver] = [path("", include((web_patterns, "web"), namespace="web"))]

handler400 = "jutaku.web.views.errors.bad_request"
handler403 = "jutaku.web.views.errors.forbidden"
handler404 = "jutaku.web.views.errors.page_not_found"
handler500 = "jutaku.web.views.errors.server_error"
