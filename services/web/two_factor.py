"""Two-factor sign-in's building blocks: TOTP codes, the sealed secret, recovery codes, the QR code.

- **TOTP** (RFC 6238 with pyotp's defaults: HMAC-SHA1, 6 digits, 30-second steps). The shared secret is
  ``pyotp.random_base32()``: 32 base32 characters, 160 bits, the length RFC 4226 §4 recommends. A code
  is accepted for the current step and one step either side (RFC 6238 §5.2 allows one step of
  transmission delay), and never for the step of a code accepted before or an earlier one (§5.2: the
  verifier must not accept the second attempt of the same OTP).
- **The secret at rest** is sealed with Fernet (``cryptography``: AES-128-CBC and HMAC-SHA256) under a key
  derived from ``VERDICTS_SECRET_KEY`` with HKDF-SHA256 (RFC 5869) for this one purpose, so a copy of the
  database alone does not give the secrets away. A new secret key leaves the sealed secrets unreadable:
  those people then sign in with a recovery code or are reset (``verdicts users reset-two-factor``).
- **Recovery codes**: ``RECOVERY_CODES`` per person, each ``xxxxx-xxxxx`` of 10 random base32
  characters (50 bits), kept only as argon2 hashes (``services.core.passwords``) and usable once.
- **Enrolment's QR code** is the ``otpauth://`` URI (Google Authenticator's Key Uri Format, which every
  authenticator app reads) drawn as inline SVG by segno.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from markupsafe import Markup

from services.core.passwords import hash_password, verify_password

#: Shown in authenticator apps next to the account name.
ISSUER = "Verdicts"
#: Recovery codes made at enrolment and each regeneration.
RECOVERY_CODES = 10
#: Time steps either side of now whose code is still accepted (RFC 6238 §5.2).
STEPS_OF_DRIFT = 1
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TOTP_CODE = re.compile(r"[0-9]{6}")
_HKDF_INFO = b"verdicts:totp-secret:v1"


class SecretUnreadable(ValueError):
    """The sealed TOTP secret does not open with this secret key (it was changed, or the value is damaged)."""


def new_secret() -> str:
    """A fresh TOTP shared secret: 32 base32 characters (160 bits)."""
    return pyotp.random_base32()


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, totp_secret: str) -> str:
    """``totp_secret`` encrypted and authenticated under ``secret_key`` (a Fernet token, about 140 ASCII characters)."""
    return _fernet(secret_key).encrypt(totp_secret.encode()).decode("ascii")


def unseal(secret_key: str, sealed: str) -> str:
    """The TOTP secret ``seal`` sealed; raises ``SecretUnreadable`` when ``secret_key`` does not open it."""
    try:
        return _fernet(secret_key).decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise SecretUnreadable("the two-factor secret cannot be read with this secret key") from exc


def otpauth_uri(totp_secret: str, account: str) -> str:
    """The ``otpauth://totp/…`` URI an authenticator app enrols from, naming ``account`` and ``ISSUER``."""
    return pyotp.TOTP(totp_secret).provisioning_uri(name=account, issuer_name=ISSUER)


def qr_svg(uri: str) -> Markup:
    """``uri`` as a QR code (error correction M), inline SVG ready to put in a page."""
    code = segno.make(uri, error="m", micro=False)
    return Markup(code.svg_inline(scale=4, dark="#000", light="#fff", title="QR code to scan"))


def looks_like_totp(code: str) -> bool:
    """Whether ``code`` (spaces ignored) has a TOTP code's shape, six digits; otherwise it may be a recovery code."""
    return bool(_TOTP_CODE.fullmatch(code.replace(" ", "")))


def accepted_step(totp_secret: str, code: str, now: float, last_step: int | None) -> int | None:
    """The time step ``code`` is the TOTP code of at ``now`` (epoch seconds), within ``STEPS_OF_DRIFT``, and
    after ``last_step`` (the step of the code accepted before, None for none); None when it matches none."""
    code = code.replace(" ", "")
    if not _TOTP_CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(totp_secret)
    current = totp.timecode(int(now))
    for step in range(current - STEPS_OF_DRIFT, current + STEPS_OF_DRIFT + 1):
        if (last_step is None or step > last_step) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """``RECOVERY_CODES`` fresh recovery codes, ``xxxxx-xxxxx`` in lower-case base32 (50 random bits each)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        text = "".join(secrets.choice(_BASE32) for _ in range(10)).lower()
        codes.append(f"{text[:5]}-{text[5:]}")
    return codes


def _canonical(code: str) -> str:
    """A recovery code as it is hashed: lower case, without spaces and dashes (people type them either way)."""
    return re.sub(r"[\s-]", "", code).lower()


def looks_like_recovery_code(code: str) -> bool:
    """Whether ``code`` as typed has a recovery code's shape (10 base32 characters, any case, dashes and spaces
    ignored): only then is it worth checking against the argon2 hashes."""
    canonical = _canonical(code)
    return len(canonical) == 10 and all(c in _BASE32 for c in canonical.upper())


def hash_recovery_code(code: str) -> str:
    """The argon2 hash a recovery code is kept as."""
    return hash_password(_canonical(code))


def recovery_code_matches(code_hash: str, code: str) -> bool:
    """Whether ``code`` as typed is the recovery code ``code_hash`` was made from."""
    return verify_password(code_hash, _canonical(code))
