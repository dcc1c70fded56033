"""What the web UI keeps between two requests of one user: an action a step-up interrupted (ADR 0024).

A POST that needs a fresh re-authentication (:class:`jutaku.accounts.permissions.StepUp`) and does not
have one is kept here — the view's URL name, its URL arguments and the posted form fields, sealed
(signed with the application's secret) — and the step-up page carries only a random key to it (its
SHA-256 is stored, as for session tokens). After a successful step-up the same session replays it once
(:mod:`jutaku.web.pending`). A row expires with the step-up window; it is wiped when used. It never holds
a My Number (the forms that need a step-up never take one, and a field holding one is refused before
anything is kept).
"""
# mypy: disallow-subclassing-any=False

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class PendingAction(models.Model):
    session = models.ForeignKey("accounts.AuthSession", on_delete=models.CASCADE, related_name="+")
    key_hash = models.CharField(max_length=64, unique=True)
    view_name = models.CharField(max_length=100)
    #: The view's URL arguments and form fields, signed (django.core.signing) with the session and user.
    sealed = models.TextField()
    #: Where the user was when the action was interrupted (a path on this site): the way back if it lapses.
    back = models.CharField(max_length=500)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(expires_at__gt=F("created_at")),
                                              name="web_pending_action_expiry")]
        indexes = [models.Index(fields=["expires_at"], name="web_pending_action_expires")]

    def __str__(self) -> str:
        return f"pending {self.view_name} of session {self.session_id}"
