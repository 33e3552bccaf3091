"""Alembic environment: runs on a connection handed in by bot.db.upgrade_schema,
or, for `alembic` on the command line, on one opened from DATABASE_URL."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from bot.models import Base

target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_settings() -> None:
    from bot.db import create_engine
    from bot.settings import get_settings

    engine = create_engine(get_settings().database_url)
    async with engine.begin() as connection:
        await connection.run_sync(run_on)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    asyncio.run(run_from_settings())
