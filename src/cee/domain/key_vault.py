"""API keys sealed at rest (AES-GCM), so the panel can show a key again to its owner.

The lookup still goes by the key's HMAC (`keys.hash_key`); this copy is only ever opened by the
panel's `Show`. The AES key is derived from the deployment secret with HKDF under its own label,
so the HMAC key and the encryption key are never the same bytes. The user's id is bound in as
associated data: a sealed key copied onto another user's row does not open.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cee.domain.errors import NotFound

_LABEL = b"cee api key sealing v1"
_NONCE_BYTES = 12


def _aead(secret: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(secret)
    return AESGCM(key)


def seal_key(secret: bytes, user_id: int, api_key: str) -> str:
    """The key encrypted for this user, as URL-safe text (nonce then ciphertext and tag)."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _aead(secret).encrypt(nonce, api_key.encode(), f"user:{user_id}".encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def open_key(secret: bytes, user_id: int, sealed: str) -> str:
    """The plain key; NotFound if the text was not sealed for this user with this secret."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        plain = _aead(secret).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], f"user:{user_id}".encode()
        )
    except (InvalidTag, ValueError):
        raise NotFound("API key: the stored copy does not open; rotate to view") from None
    return plain.decode()
