"""``python -m bot.cli``: the same as the ``baraza`` command."""

from bot.cli import main

main()
