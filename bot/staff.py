"""Staff accounts: creation from the CLI, passwords hashed with argon2, and the first
admin's access on a development server, so `make run` can be signed in to at once."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import StaffUser

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


class PasswordTooWeak(ValueError):
    """The password is too short to protect case data."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooWeak(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except Exception:
        return False


async def upsert_staff_user(
    db: AsyncSession, *, email: str, name: str, role: str, language: str, password: str
) -> bool:
    """Create the account, or update it and reset its password; True if created."""
    password_hash = hash_password(password)
    user = await db.scalar(select(StaffUser).where(StaffUser.email == email.lower()))
    created = user is None
    if user is None:
        user = StaffUser(email=email.lower(), name=name, role=role, language=language)
        db.add(user)
    user.name, user.role, user.language = name, role, language
    user.password_hash, user.active = password_hash, True
    return created


async def first_admin_access(db: AsyncSession) -> tuple[str, str | None] | None:
    """For a development server: the first admin's email, and a password if one had to be
    made (no admin could sign in yet); None when there is no admin at all."""
    admins = list(
        await db.scalars(
            select(StaffUser)
            .where(StaffUser.role == "admin", StaffUser.active.is_(True))
            .order_by(StaffUser.id)
        )
    )
    if not admins:
        return None
    if any(admin.password_hash for admin in admins):
        first = next(admin for admin in admins if admin.password_hash)
        return first.email, None
    password = secrets.token_urlsafe(12)
    admins[0].password_hash = hash_password(password)
    return admins[0].email, password
