"""``baraza keys``: make a data key, and rotate all sealed data onto a new one (with the
app stopped), saying exactly which keys to set afterwards."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from bot.cli.common import fail, load_settings
from bot.settings import SettingsError, generate_key


@click.group()
def keys() -> None:
    """Data encryption keys."""


@keys.command("generate")
def keys_generate() -> None:
    """Print a new BARAZA_DATA_KEY (keep it secret; without it the data cannot be read)."""
    click.echo(generate_key())


@keys.command("rotate")
@click.option(
    "--new-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the new key from this file. Default: BARAZA_NEW_DATA_KEY, else a new one.",
)
def keys_rotate(new_key_file: Path | None) -> None:
    """Re-encrypt all data under a new key. Stop the app first.

    Every sealed value is re-sealed and every look-up hash recomputed under the new
    key, in one transaction: if anything fails, nothing changes. The current key and
    BARAZA_PREVIOUS_DATA_KEYS open the old data. The new key comes from
    --new-key-file, or BARAZA_NEW_DATA_KEY, or is generated. In development (key in
    var/) the key files are updated; otherwise the command prints the keys to set.
    """
    import os

    from bot import privacy
    from bot.keyrotation import RotationError, rotate_keys
    from bot.privacy import Vault
    from bot.settings import decode_key, encode_key

    settings = load_settings()
    generated = False
    try:
        old_key = settings.resolve_data_key()
        previous = settings.resolve_previous_keys()
        if new_key_file is not None:
            new_raw = decode_key(new_key_file.read_text().strip(), str(new_key_file))
        elif os.environ.get("BARAZA_NEW_DATA_KEY", "").strip():
            new_raw = decode_key(os.environ["BARAZA_NEW_DATA_KEY"].strip(), "BARAZA_NEW_DATA_KEY")
        else:
            new_raw, generated = decode_key(generate_key()), True
    except SettingsError as exc:
        fail(str(exc))
    if new_raw == old_key:
        fail("the new key is the current BARAZA_DATA_KEY: give another one")
    old = privacy.configure(old_key, previous)  # a schema upgrade may read sealed values
    new = Vault.from_key(new_raw)

    async def run() -> Any:
        from bot.db import create_engine, upgrade_schema

        engine = create_engine(settings.database_url)
        try:
            await upgrade_schema(engine)
            return await rotate_keys(engine, old=old, new=new)
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(run())
    except RotationError as exc:
        fail(f"{exc}. Nothing was changed.")
    click.echo(f"re-sealed under the new key (id {report.key_id}):")
    for name, count in report.sealed.items():
        click.echo(f"  {name}: {count} value(s) in {report.rows[name]} row(s)")
    for name, count in report.hashes.items():
        click.echo(f"  {name}: {count} look-up hash(es) recomputed")
    if report.telegram_hashes_left:
        click.echo(
            f"warning: {report.telegram_hashes_left} staff Telegram id(s) could not be "
            "re-hashed: run `baraza import DEPLOYMENT.yaml` before starting the app, or "
            "those chairs are not recognised.",
            err=True,
        )
    new_text = encode_key(new_raw)
    old_texts = list(dict.fromkeys(encode_key(k) for k in (old_key, *previous) if k != new_raw))
    if settings.key_in_var:
        try:
            settings.keep_rotated_development_key(new_text, old_texts[0])
        except OSError as exc:
            fail(
                f"the data is sealed under the new key, but {settings.key_file} could not be "
                f"written ({exc}): set BARAZA_DATA_KEY={new_text} and "
                f"BARAZA_PREVIOUS_DATA_KEYS={','.join(old_texts)}"
            )
        click.echo(
            f"{settings.key_file} now holds the new key; the old one is kept in "
            f"{settings.previous_keys_file}. Nothing to set."
        )
        return
    if generated:
        click.echo("\nThe new key was generated now: it is shown here and stored nowhere.")
    click.echo(
        "\nBefore starting the app again, set exactly:\n"
        f"  BARAZA_DATA_KEY={new_text}\n"
        f"  BARAZA_PREVIOUS_DATA_KEYS={','.join(old_texts)}\n"
        "The previous keys only open backups taken before now; after restoring one, run "
        "`baraza keys rotate` on it.\nKeep the new key in your secret store: without it "
        "the data cannot be read."
    )
