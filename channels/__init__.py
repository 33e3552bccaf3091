"""One module per channel behind one interface (``channels.base.Channel``)."""
