"""The staff API against the session's demo database: an ASGI client, accounts, cases."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import delete, func, select

from bot.app import create_app
from bot.models import AuditEntry, StaffToken, StaffUser
from bot.services import Services
from bot.staff import hash_password

PASSWORD = "correct horse battery"
ACCOUNTS = {  # the demo deployment's staff, plus a viewer and an officer of another unit
    "admin": "programme@baraza.example",
    "chair": "peter@baraza.example",  # chair of eastleigh-cpf
    "focal": "amina@baraza.example",  # focal point of eastleigh-cpf
    "other_focal": "joseph@baraza.example",  # focal point of kakuma-cpf
    "officer": "grace@baraza.example",  # nairobi-gbv unit
    "other_officer": "mariama@baraza.example",  # niamey-protection unit
    "viewer": "viewer@baraza.example",
}


@pytest.fixture
async def accounts(services: Services) -> dict[str, str]:
    """Every account with the same password; the viewer created if missing; no tokens."""
    async with services.sessions() as db, db.begin():
        await db.execute(delete(StaffToken))
        viewer = await db.scalar(select(StaffUser).where(StaffUser.email == ACCOUNTS["viewer"]))
        if viewer is None:
            db.add(StaffUser(email=ACCOUNTS["viewer"], name="Vera Viewer", role="viewer",
                             language="en", active=True))  # fmt: skip
        await db.flush()
        hashed = hash_password(PASSWORD)
        for user in await db.scalars(
            select(StaffUser).where(StaffUser.email.in_(ACCOUNTS.values()))
        ):
            user.password_hash, user.active = hashed, True
    return ACCOUNTS


@pytest.fixture
async def api(services: Services, accounts: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """The whole app (webhooks, API, pages) over ASGI, on the test's services."""
    app = create_app(services.settings, workers=False)
    app.state.services = services
    # A client address of its own per test: failed sign-ins are counted per address, and
    # the audit log they are counted from is never emptied.
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    transport = httpx.ASGITransport(app=app, client=(address, 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def token_for(api: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    response = await api.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@dataclass
class Staff:
    """A signed-in staff member: requests carry their bearer token."""

    api: httpx.AsyncClient
    token: str

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, **kwargs: object) -> httpx.Response:
        return await self.api.get(path, headers=self._headers(), **kwargs)  # type: ignore[arg-type]

    async def post(self, path: str, **kwargs: object) -> httpx.Response:
        return await self.api.post(path, headers=self._headers(), **kwargs)  # type: ignore[arg-type]

    async def patch(self, path: str, **kwargs: object) -> httpx.Response:
        return await self.api.patch(path, headers=self._headers(), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def staff(api: httpx.AsyncClient, accounts: dict[str, str]) -> dict[str, Staff]:
    return {name: Staff(api, await token_for(api, email)) for name, email in accounts.items()}


async def audit_actions(
    services: Services, case_id: int | None = None, after: int = 0
) -> list[tuple[str | None, str]]:
    """Audit entries in order (the log outlives the wiped cases, whose ids come back)."""
    async with services.sessions() as db:
        query = (
            select(AuditEntry.actor, AuditEntry.action)
            .where(AuditEntry.id > after)
            .order_by(AuditEntry.id)
        )
        if case_id is not None:
            query = query.where(AuditEntry.case_id == case_id)
        return [(actor, action) for actor, action in (await db.execute(query)).all()]


async def last_audit_id(services: Services) -> int:
    async with services.sessions() as db:
        return int(await db.scalar(select(func.max(AuditEntry.id))) or 0)
