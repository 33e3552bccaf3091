"""What staff send on their own: broadcasts, forum meetings, awareness campaigns.

One module per resource holds the rules (who may do what to which, through their
scope) and the reads and writes, audited; the API routers (``admin/routes``) and the
pages (``*_pages.py`` here) are thin doors onto them, so a page cannot do what the
API refuses. The engine underneath (``bot.broadcasts``, ``bot.meetings``,
``bot.campaigns``, the dispatcher) knows nothing of staff.
"""
