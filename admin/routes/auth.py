"""Signing in and out of the staff API, and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm

from admin.deps import ClientDep, ScopeDep, SessionDep, bearer
from admin.schemas import Me, StaffPublic, Token
from admin.security import SignInThrottled, authenticate, issue_token, revoke_token

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=Token)
async def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], db: SessionDep, client: ClientDep
) -> Token:
    """Exchange an email and password (OAuth2 password form) for a bearer token (8 hours).
    Five failures for an account, or twenty from one address, in 15 minutes: 429."""
    try:
        user = await authenticate(db, form.username, form.password, client)
    except SignInThrottled:
        await db.commit()
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many failed sign-ins: wait 15 minutes",
            headers={"Retry-After": "900"},
        ) from None
    if user is None:
        await db.commit()  # the failure is audited and counted
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "wrong email or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token, _ = await issue_token(db, user, "api")
    await db.commit()
    return Token(access_token=token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(
    scope: ScopeDep, db: SessionDep, token: Annotated[str | None, Depends(bearer)]
) -> None:
    """End this bearer token's session."""
    if token:
        await revoke_token(db, token)
        await db.commit()


@router.get("/me", response_model=Me)
async def me(scope: ScopeDep) -> Me:
    staff = StaffPublic.model_validate(scope.staff)
    return Me(
        **staff.model_dump(), forum_ids=sorted(scope.forum_ids), unit_ids=sorted(scope.unit_ids)
    )
