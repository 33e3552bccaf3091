"""The staff API under ``/api/v1``: one router per resource, as the FastAPI template does."""

from fastapi import APIRouter

from admin.routes import (
    audit,
    auth,
    broadcasts,
    campaigns,
    cases,
    directory,
    meetings,
    simulator,
    staff,
    topics,
    trends,
)

api_router = APIRouter(prefix="/api/v1")
for module in (
    auth, cases, directory, staff, trends, audit, simulator,
    broadcasts, meetings, topics, campaigns,
):  # fmt: skip
    api_router.include_router(module.router)
