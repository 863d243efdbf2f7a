"""The desk's defences: the write token, CSRF tokens and the response headers.

- The settlement API writes only with a token, and is off unless one is
  configured: read from a file (``--token-file``) or the environment
  (``YIBAO_DESK_TOKEN``), never from the command line or a URL (both end up
  in process lists and logs).  It is sent as ``Authorization: Bearer …`` and
  compared in constant time.
- Forms that POST (the replay action) carry a CSRF token: an HMAC, under a key
  drawn when the desk starts, of a random value kept in a ``SameSite=Strict``
  cookie (double submit, signed).  A POST without both, or from another origin,
  is refused.
- Every response says ``Content-Security-Policy: default-src 'none'`` with only
  inline styles, same-origin frames, forms and images allowed: no script runs
  and nothing is fetched from anywhere, even if an escaped value were missed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pathlib
import secrets

TOKEN_VARIABLE = "YIBAO_DESK_TOKEN"
CSRF_COOKIE = "yibao_desk_csrf"
CSRF_FIELD = "csrf"
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "frame-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'"),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "SAMEORIGIN",
}


class TokenError(ValueError):
    """A token file that cannot be used; the message says why."""


def read_token(token_file: str | None, environ=os.environ) -> str | None:
    """The write token, from ``token_file`` or ``YIBAO_DESK_TOKEN``; None: writing is off."""
    if token_file:
        try:
            token = pathlib.Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise TokenError(f"{token_file}: {error.strerror or error}") from None
        if len(token) < 16:
            raise TokenError(f"{token_file}: the token must be at least 16 characters")
        return token
    token = environ.get(TOKEN_VARIABLE, "").strip()
    if token and len(token) < 16:
        raise TokenError(f"{TOKEN_VARIABLE}: the token must be at least 16 characters")
    return token or None


def bearer_matches(header: str | None, token: str | None) -> bool:
    if not token or not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer "):].encode(), token.encode())


class Csrf:
    def __init__(self, key: bytes | None = None):
        self._key = key or secrets.token_bytes(32)

    @staticmethod
    def new_cookie() -> str:
        return secrets.token_urlsafe(24)

    def token_for(self, cookie: str) -> str:
        return hmac.new(self._key, cookie.encode(), hashlib.sha256).hexdigest()

    def valid(self, cookie: str | None, token: str | None) -> bool:
        if not cookie or not token:
            return False
        return hmac.compare_digest(self.token_for(cookie), token)


def same_origin(origin: str | None, host: str | None) -> bool:
    """A POST's Origin, when the browser sends one, must be the desk itself."""
    if origin is None:
        return True   # no Origin header (an old browser): the CSRF token still decides
    return origin.split("://", 1)[-1] == (host or "")
