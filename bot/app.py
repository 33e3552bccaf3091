"""The FastAPI application factory: health endpoints now, webhooks and staff API on top.

``create_app`` opens the services in the lifespan (schema upgrade included), so
``uvicorn bot.app:create_app --factory`` and ``baraza serve`` behave the same.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from admin import directory_pages, pages
from admin.outbound import broadcast_pages, campaign_pages, meeting_pages
from admin.routes import api_router
from bot import __version__, metrics, webhooks
from bot.bodylimit import BodyLimit
from bot.db import database_unavailable, ping
from bot.logs import guard_all_handlers
from bot.services import Services
from bot.settings import Environment, Settings, get_settings


def freeze_what_start_made() -> None:
    """Keep the collector off the objects made at start (modules, flows, catalogs: some
    200,000), which live as long as the process. Traversing them made every full
    collection a 70 ms pause, and a pause between a message's rate slot and its
    request sent it bunched with the next. Not in tests, where apps come and go in one
    process and what is frozen would never be collected."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, *, workers: bool = True) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        guard_all_handlers()  # uvicorn's loggers exist by now, whoever configured them
        services = await Services.open(settings)
        app.state.services = services
        if workers:
            services.start_workers()
        if settings.environment is not Environment.test:
            freeze_what_start_made()
        try:
            yield
        finally:
            await services.close()

    app = FastAPI(title="Baraza", version=__version__, lifespan=lifespan)
    app.add_middleware(metrics.WebhookTimer)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)  # outermost: first
    app.include_router(webhooks.router)
    app.include_router(metrics.router)
    app.include_router(api_router)
    for module in (pages, directory_pages, broadcast_pages, meeting_pages, campaign_pages):
        app.include_router(module.router)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> JSONResponse:
        """The database answers: the process can take traffic."""
        services: Services = request.app.state.services
        try:
            await asyncio.wait_for(ping(services.engine), settings.db_timeout_seconds)
        except Exception:
            return JSONResponse({"status": "database unreachable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def database_away(request: Request, exc: Exception) -> Response:
        """Any route: the database away or too slow is a 503 to retry, not a 500."""
        if not database_unavailable(exc):
            raise exc
        return webhooks.unavailable(exc)

    for kind in (DBAPIError, PoolTimeout, OSError, TimeoutError):
        app.add_exception_handler(kind, database_away)

    app.openapi = _documented_refusals(app.openapi)  # type: ignore[method-assign]
    return app


def _documented_refusals(openapi: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """A 422 is FastAPI's list of invalid fields, or one of our sentences ("choose a
    forum"): say so in the OpenAPI document, so that clients (and schemathesis) read
    both as documented."""

    def patched() -> dict[str, Any]:
        schema = openapi()
        found = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
        if found and "anyOf" not in found["properties"]["detail"]:
            fields = found["properties"]["detail"]
            found["properties"]["detail"] = {
                "title": "Detail",
                "anyOf": [fields, {"type": "string"}],
                "description": "the invalid fields, or a sentence saying what to change",
            }
        return schema

    return patched
