"""Encryption at rest for what could harm a person if the database leaked.

Sender addresses, narratives and conversation state are sealed with AES-GCM; a
contact is found again by an HMAC of its normalised address, so the address itself
never has to be stored in clear or compared in SQL. Both keys are derived from the
single ``BARAZA_DATA_KEY`` with HKDF, so one secret is all an operator keeps.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
FORMAT_VERSION = b"\x01"


class DecryptionError(ValueError):
    """The data was sealed with another key or has been tampered with."""


def _derive(key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(key)


@dataclass(frozen=True)
class Vault:
    """Seals and opens values, and computes look-up hashes, with one data key."""

    _aead: AESGCM
    _hash_key: bytes

    @classmethod
    def from_key(cls, key: bytes) -> Vault:
        return cls(
            _aead=AESGCM(_derive(key, b"baraza/seal/v1")),
            _hash_key=_derive(key, b"baraza/lookup/v1"),
        )

    def seal(self, plaintext: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return FORMAT_VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), None)

    def open(self, sealed: bytes) -> str:
        if not sealed or sealed[:1] != FORMAT_VERSION:
            raise DecryptionError("unknown sealed format")
        nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, None).decode()
        except Exception as exc:  # cryptography raises InvalidTag
            raise DecryptionError("cannot open sealed value") from exc

    def lookup_hash(self, value: str) -> str:
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()


_vault: Vault | None = None


def configure(key: bytes) -> Vault:
    """Install the process-wide vault; called once at start by the app and the CLI."""
    global _vault
    _vault = Vault.from_key(key)
    return _vault


def vault() -> Vault:
    if _vault is None:
        raise RuntimeError("privacy.configure() has not been called")
    return _vault
