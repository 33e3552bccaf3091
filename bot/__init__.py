"""Baraza: a chat-bot reporting and feedback channel for community policing.

The ``bot`` package is the application core. Channels (``channels/``) turn provider
requests into :class:`bot.messages.InboundMessage`; the flow engine (``flows/``)
decides what to answer; everything it decides is committed with the outbox in one
transaction, and the sender drains the outbox per channel.
"""

__version__ = "0.1.0"
