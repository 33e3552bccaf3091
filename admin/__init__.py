"""Staff-facing HTTP API (``/api/v1``) and server-rendered pages (``/admin``).

Forum chairs and focal points work their forums' concerns, protection officers
their unit's cases, admins the programme and its directory, viewers the trends.
The API and the pages share the same scope, casework and audit code.
"""
