"""The staff API under ``/api/v1``: one router per resource, as the FastAPI template does."""

from fastapi import APIRouter

from admin.routes import audit, auth, cases, directory, simulator, trends

api_router = APIRouter(prefix="/api/v1")
for module in (auth, cases, directory, trends, audit, simulator):
    api_router.include_router(module.router)
