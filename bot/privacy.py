"""Encryption at rest for what could harm a person if the database leaked.

Sender addresses, narratives and conversation state are sealed with AES-GCM; a
contact is found again by an HMAC of its normalised address, so the address itself
never has to be stored in clear or compared in SQL. Both keys are derived from the
single ``BARAZA_DATA_KEY`` with HKDF, so one secret is all an operator keeps.

The vault is a keyring so that keys can be rotated (``baraza keys rotate``): the
current key seals and hashes; previous keys (``BARAZA_PREVIOUS_DATA_KEYS``) only
open. A sealed value names the key that sealed it by a short id derived from it.

Sealed formats::

    0x01 | nonce (12) | ciphertext+tag                  no key id: every key is tried
    0x02 | key id (4) | nonce (12) | ciphertext+tag     header authenticated as AAD
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
KEY_ID_BYTES = 4
FORMAT_V1 = b"\x01"  # before key rotation: still opened, never written
FORMAT_VERSION = b"\x02"


class DecryptionError(ValueError):
    """The data was sealed with another key or has been tampered with."""


def _derive(key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(key)


@dataclass(frozen=True)
class _Key:
    id: bytes
    aead: AESGCM
    hash_key: bytes

    @classmethod
    def derive(cls, key: bytes) -> _Key:
        return cls(
            id=_derive(key, b"baraza/key-id/v1")[:KEY_ID_BYTES],
            aead=AESGCM(_derive(key, b"baraza/seal/v1")),
            hash_key=_derive(key, b"baraza/lookup/v1"),
        )

    def open(self, nonce: bytes, body: bytes, header: bytes | None) -> str | None:
        try:
            return self.aead.decrypt(nonce, body, header).decode()
        except Exception:  # cryptography raises InvalidTag
            return None

    def lookup_hash(self, value: str) -> str:
        return hmac.new(self.hash_key, value.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Vault:
    """Seals and computes look-up hashes with the current key; opens with any key."""

    _current: _Key
    _previous: tuple[_Key, ...] = ()

    @classmethod
    def from_key(cls, key: bytes, previous: Iterable[bytes] = ()) -> Vault:
        others = [old for old in dict.fromkeys(previous) if old != key]
        return cls(_Key.derive(key), tuple(_Key.derive(old) for old in others))

    @property
    def key_id(self) -> str:
        """The current key's short public id (hex), as written in sealed values."""
        return self._current.id.hex()

    @property
    def _keys(self) -> tuple[_Key, ...]:
        return (self._current, *self._previous)

    def seal(self, plaintext: str) -> bytes:
        header = FORMAT_VERSION + self._current.id
        nonce = os.urandom(NONCE_BYTES)
        return header + nonce + self._current.aead.encrypt(nonce, plaintext.encode(), header)

    def open(self, sealed: bytes) -> str:
        version = sealed[:1]
        if version == FORMAT_VERSION:
            header = sealed[: 1 + KEY_ID_BYTES]
            nonce = sealed[len(header) : len(header) + NONCE_BYTES]
            body = sealed[len(header) + NONCE_BYTES :]
            candidates = [key for key in self._keys if key.id == header[1:]]
            if not candidates:
                raise DecryptionError(
                    f"sealed with key {header[1:].hex()}, which is neither the current key "
                    "nor in BARAZA_PREVIOUS_DATA_KEYS"
                )
        elif version == FORMAT_V1:
            header = None
            nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
            candidates = list(self._keys)
        else:
            raise DecryptionError("unknown sealed format")
        for key in candidates:
            opened = key.open(nonce, body, header)
            if opened is not None:
                return opened
        raise DecryptionError("cannot open sealed value")

    def lookup_hash(self, value: str) -> str:
        return self._current.lookup_hash(value)

    def hashed_by_any_key(self, value: str, digest: str) -> bool:
        """Whether ``digest`` is ``value``'s look-up hash under any key of the ring."""
        return any(hmac.compare_digest(key.lookup_hash(value), digest) for key in self._keys)


_vault: Vault | None = None


def configure(key: bytes, previous: Iterable[bytes] = ()) -> Vault:
    """Install the process-wide vault; called once at start by the app and the CLI."""
    global _vault
    _vault = Vault.from_key(key, previous)
    return _vault


def vault() -> Vault:
    if _vault is None:
        raise RuntimeError("privacy.configure() has not been called")
    return _vault
