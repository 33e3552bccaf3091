"""Staff sign-in: argon2 passwords, opaque tokens stored as hashes, throttled failures.

A token is 256 random bits handed to the client once; the database keeps only its
SHA-256, so a leaked backup opens no session, and signing out deletes the row.
Failed sign-ins are counted from the audit log itself (per account and per client
address), so the limit holds across every app process without another store.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.audit import audit
from bot.models import AuditEntry, StaffToken, StaffUser
from bot.models.base import utcnow
from bot.staff import hash_password, verify_password

TOKEN_LIFETIME = timedelta(hours=8)
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_CLIENT = 20


@functools.cache
def _decoy() -> str:
    """Verified when the account does not exist, so a wrong email costs as long as a
    wrong password and sign-in does not tell which emails have accounts."""
    return hash_password(secrets.token_urlsafe(16))


class SignInThrottled(Exception):
    """Too many failed sign-ins for this account or from this address: wait."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(db: AsyncSession, staff: StaffUser, kind: str) -> tuple[str, str]:
    """A new session for ``staff``: the token for the client, and the CSRF form token."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = utcnow()
    await db.execute(delete(StaffToken).where(StaffToken.expires_at < now))
    db.add(
        StaffToken(
            token_hash=_hash(token),
            staff_id=staff.id,
            kind=kind,
            csrf=csrf,
            created_at=now,
            expires_at=now + TOKEN_LIFETIME,
        )
    )
    return token, csrf


async def resolve_token(
    db: AsyncSession, token: str, kind: str
) -> tuple[StaffUser, StaffToken] | None:
    """The active staff user behind a live token of this kind, or None."""
    found = (
        await db.execute(
            select(StaffUser, StaffToken)
            .join(StaffToken, StaffToken.staff_id == StaffUser.id)
            .where(
                StaffToken.token_hash == _hash(token),
                StaffToken.kind == kind,
                StaffToken.expires_at > utcnow(),
                StaffUser.active.is_(True),
            )
        )
    ).first()
    return (found[0], found[1]) if found else None


async def revoke_token(db: AsyncSession, token: str) -> None:
    await db.execute(delete(StaffToken).where(StaffToken.token_hash == _hash(token)))


async def _recent_failures(db: AsyncSession, email: str, client: str | None) -> tuple[int, int]:
    since = utcnow() - FAILURE_WINDOW
    rows = (
        await db.execute(
            select(AuditEntry.actor, AuditEntry.client, func.count())
            .where(
                AuditEntry.action == "login_failed",
                AuditEntry.at >= since,
                or_(AuditEntry.actor == email, AuditEntry.client == client),
            )
            .group_by(AuditEntry.actor, AuditEntry.client)
        )
    ).all()
    by_account = sum(n for actor, _, n in rows if actor == email)
    by_client = sum(n for _, address, n in rows if client is not None and address == client)
    return by_account, by_client


async def authenticate(
    db: AsyncSession, email: str, password: str, client: str | None
) -> StaffUser | None:
    """The staff user if the password is right; every attempt is audited. Raises
    ``SignInThrottled`` past the failure limits, without checking the password."""
    email = email.strip().lower()[:254]
    by_account, by_client = await _recent_failures(db, email, client)
    if by_account >= MAX_FAILURES_PER_ACCOUNT or by_client >= MAX_FAILURES_PER_CLIENT:
        await audit(db, "login_throttled", actor=email, client=client)
        raise SignInThrottled
    user = await db.scalar(select(StaffUser).where(StaffUser.email == email))
    valid = verify_password(
        user.password_hash if user and user.password_hash else _decoy(), password
    )
    if user is None or not user.active or not valid:
        await audit(db, "login_failed", actor=email, client=client)
        return None
    await audit(db, "login", staff=user, client=client)
    return user
