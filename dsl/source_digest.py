"""A policy text's name in the audit trail: the SHA-256 of its UTF-8 bytes, in hex.

Apart from the loader (audit/verify.py compares stored texts with their names and
imports no parser: it is forked before the policy is loaded, audit/verify_ahead.py).
"""

from __future__ import annotations

import hashlib


def source_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
