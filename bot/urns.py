"""Contact addresses as URNs (``tel:+254...``, ``whatsapp:+254...``, ``telegram:123``).

One normal form per address means one contact per person per channel, and one
keyed hash to find them by, whatever spacing or prefix the provider sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEMES = {"tel", "whatsapp", "telegram", "console"}
CHANNEL_OF_SCHEME = {"tel": "sms", "whatsapp": "whatsapp", "telegram": "telegram"}
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
_TELEGRAM = re.compile(r"^-?\d{1,20}$")
_CONSOLE = re.compile(r"^[\w.@-]{1,64}$")


class InvalidURN(ValueError):
    """The address cannot belong to any channel we serve."""


@dataclass(frozen=True)
class URN:
    scheme: str
    path: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.path}"

    @property
    def channel(self) -> str:
        return CHANNEL_OF_SCHEME.get(self.scheme, self.scheme)


def _normalise_phone(path: str) -> str:
    digits = re.sub(r"[\s().-]", "", path)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if not _PHONE.match(digits):
        raise InvalidURN(f"not an international phone number: {path!r}")
    return digits


def parse(value: str) -> URN:
    scheme, sep, path = value.strip().partition(":")
    scheme = scheme.lower()
    if not sep or scheme not in SCHEMES:
        raise InvalidURN(f"unknown address scheme in {value!r}")
    if scheme in {"tel", "whatsapp"}:
        return URN(scheme, _normalise_phone(path))
    if scheme == "telegram" and _TELEGRAM.match(path):
        return URN(scheme, path)
    if scheme == "console" and _CONSOLE.match(path):
        return URN(scheme, path.lower())
    raise InvalidURN(f"malformed {scheme} address: {value!r}")
