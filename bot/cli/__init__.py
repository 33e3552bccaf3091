"""The ``baraza`` command: serve, chat, migrate, import, manage staff, check flows, keys,
retention, and check a whole deployment (doctor).

This module holds the top-level group and its logging options; each command lives in
the module of its job (``serving``, ``directory``, ``upkeep``, ``translations``,
``telegram_setup``, ``keys``) and is attached here, so ``bot.cli:main`` is the whole
command."""

from __future__ import annotations

import logging
import os

import click

from bot.cli import directory, keys, serving, telegram_setup, translations, upkeep
from bot.logs import configure_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Baraza: a reporting and feedback channel for community policing."""
    log_format = os.environ.get("BARAZA_LOG_FORMAT", "text")  # before settings: they may fail
    configure_logging(log_format, logging.DEBUG if verbose else logging.INFO)
    if not verbose:  # schema upgrades are silent unless something is wrong
        logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs each request URL at INFO: noise at this rate (and redacted anyway).
    for chatty in ("httpx", "httpcore", "twilio.http_client"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


for command in (
    serving.serve,
    serving.chat,
    upkeep.db,
    directory.import_,
    directory.export_deployment,
    directory.users,
    upkeep.flows,
    upkeep.doctor,
    translations.i18n,
    telegram_setup.telegram,
    keys.keys,
    upkeep.retention,
):
    main.add_command(command)
