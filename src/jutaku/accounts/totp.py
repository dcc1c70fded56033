"""TOTP second factor (AUTH-03) on django-otp's TOTPDevice.

Seeds come from ``os.urandom`` (django-otp's ``random_hex``), steps are 30 s, the window is ±1 step
(``JUTAKU_TOTP_TOLERANCE``) with no drift learning (``OTP_TOTP_SYNC = False``), and an accepted step
is never accepted again (``last_t``). Enrolment shows an ``otpauth://`` URI and a QR code.
"""

from __future__ import annotations

import io
from base64 import b32encode
from binascii import unhexlify
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "jutaku"


@dataclass(frozen=True)
class Enrolment:
    uri: str = field(repr=False)
    secret: str = field(repr=False)  # base32, for manual entry

    def ascii_qr(self) -> str:
        import qrcode

        qr = qrcode.QRCode(border=1)
        qr.add_data(self.uri)
        out = io.StringIO()
        qr.print_ascii(out=out, invert=True)
        return out.getvalue()

    def svg(self) -> bytes:
        """The QR code as SVG, in memory (the web shows it once as a data: image; it holds the seed)."""
        import qrcode
        from qrcode.image.svg import SvgPathImage

        image = qrcode.make(self.uri, image_factory=SvgPathImage)
        buffer = io.BytesIO()
        image.save(buffer)
        return buffer.getvalue()

    def write_svg(self, path: Path) -> Path:
        """Write the QR code as SVG, readable by its owner only (it holds the seed)."""
        import os

        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(self.svg())
        os.chmod(path, 0o600)
        return path


def enrol(user: Any) -> Enrolment:
    """Replace the user's devices by a fresh one and return its enrolment (call inside a transaction)."""
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True, step=30, t0=0, digits=6,
                                       tolerance=settings.JUTAKU_TOTP_TOLERANCE, drift=0)
    secret = b32encode(unhexlify(device.key.encode())).decode("ascii")
    return Enrolment(uri=device.config_url, secret=secret)


def verify(user: Any, code: str) -> bool:
    """True when ``code`` is a fresh, unused code of the user's device (updates ``last_t``)."""
    code = (code or "").strip()
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return False
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    if device is None:
        return False
    if device.tolerance > settings.JUTAKU_TOTP_TOLERANCE or device.drift:
        device.tolerance, device.drift = settings.JUTAKU_TOTP_TOLERANCE, 0
    return bool(device.verify_token(code))


def has_device(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()
