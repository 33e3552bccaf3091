"""Staff-facing HTTP API (``/api/v1``) and server-rendered pages (``/admin``).

Empty until the staff side is built (issue 6): cases, relay, directory management
and dashboards will live here as one FastAPI router per resource.
"""
