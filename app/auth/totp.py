"""Time-based one-time codes (RFC 6238, pyotp): secrets, QR codes, and which 30-second step a code matches."""
import base64
import re

import pyotp
import qrcode
import qrcode.image.svg

from ..core import clock

ISSUER = "SIPROC"
VALID_WINDOW = 1  # the previous and the next 30-second step are accepted too (clock drift, typing time)
CODE_PATTERN = re.compile(r"\d{6}")


def new_secret() -> str:
    return pyotp.random_base32()


def grouped(secret: str) -> str:
    """The secret in groups of four, as typed into an authenticator app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The provisioning URI as an SVG QR code, drawn server-side, for an <img src="data:..."> (CSP allows it)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode("ascii")


def clean(code: str | None) -> str:
    return re.sub(r"[\s-]", "", code or "")


def matching_steps(secret: str, code: str | None) -> list[int]:
    """The 30-second steps around now whose code is `code` (usually one, or none)."""
    code = clean(code)
    if not CODE_PATTERN.fullmatch(code):
        return []
    generator = pyotp.TOTP(secret)
    current = generator.timecode(clock.now())
    steps = range(current - VALID_WINDOW, current + VALID_WINDOW + 1)
    return [step for step in steps if pyotp.utils.strings_equal(code, generator.generate_otp(step))]

