"""The directory and staff API: every role against every directory resource (allowed,
403 or 404), and the OpenAPI document describing those routes (and the cases') with
their answers.

Writes are sent with bodies that change nothing (or clash with what exists), so the
shared demo directory stays as it is.
"""

from __future__ import annotations

import httpx

from tests.admin.conftest import Staff

OK, NO, NF, CLASH = 200, 403, 404, 409
# What each role gets from each request below, in order.
REQUESTS: tuple[tuple[str, str, object], ...] = (
    ("GET", "/api/v1/areas", None),
    ("GET", "/api/v1/forums", None),
    ("GET", "/api/v1/units", None),
    ("GET", "/api/v1/categories", None),
    ("GET", "/api/v1/staff", None),
    ("GET", "/api/v1/staff/{amina}", None),
    ("PATCH", "/api/v1/areas/ke-eastleigh", {}),
    ("PATCH", "/api/v1/forums/eastleigh-cpf", {}),
    ("PATCH", "/api/v1/units/nairobi-gbv", {}),
    ("PATCH", "/api/v1/categories/theft", {}),
    ("PATCH", "/api/v1/staff/{amina}", {}),
    ("PATCH", "/api/v1/forums/nowhere", {}),
    ("POST", "/api/v1/forums", {"key": "kakuma-cpf", "names": {"en": "K"}, "areas": ["ke"]}),
    ("POST", "/api/v1/categories", {"key": "theft", "names": {"en": "Theft"}}),
)
EVERYONE_READS = (OK, OK, OK, OK)
STAFF_ONLY = (NO,) * 10
MATRIX = {
    "admin": (*EVERYONE_READS, OK, OK, OK, OK, OK, OK, OK, NF, CLASH, CLASH),
    "chair": (*EVERYONE_READS, *STAFF_ONLY),
    "focal": (*EVERYONE_READS, *STAFF_ONLY),
    "officer": (*EVERYONE_READS, *STAFF_ONLY),
    "viewer": (*EVERYONE_READS, *STAFF_ONLY),
}


async def test_every_role_against_every_directory_resource(staff: dict[str, Staff]) -> None:
    people = (await staff["admin"].get("/api/v1/staff")).json()
    amina = next(p["id"] for p in people if p["email"] == "amina@baraza.example")
    seen = {}
    for role in MATRIX:
        who = staff[role]
        codes = []
        for method, path, body in REQUESTS:
            url = path.format(amina=amina)
            answer = await who.api.request(method, url, json=body, headers=who._headers())
            codes.append(answer.status_code)
        seen[role] = tuple(codes)
    assert seen == MATRIX
    # A body that changes nothing writes nothing: no audit, no web-edit mark.
    forums = {f["key"]: f for f in (await staff["admin"].get("/api/v1/forums")).json()}
    assert forums["eastleigh-cpf"]["active"] is True
    # The staff list names each account's forums and units with the role there.
    by_email = {p["email"]: p for p in people}
    assert by_email["amina@baraza.example"]["forums"] == {"eastleigh-cpf": "focal_point"}
    assert by_email["grace@baraza.example"]["units"] == {"nairobi-gbv": "focal_point"}
    assert "password_hash" not in str(people) and "web_edits" not in str(people)


async def test_the_openapi_document_describes_the_routes_and_their_refusals(
    api: httpx.AsyncClient,
) -> None:
    document = (await api.get("/openapi.json")).json()
    paths = document["paths"]
    expected = {
        "/api/v1/areas": {"get": (), "post": ("401", "403", "409", "422")},
        "/api/v1/areas/{key}": {"patch": ("401", "403", "404", "422")},
        "/api/v1/forums": {"get": (), "post": ("403", "409", "422")},
        "/api/v1/forums/{key}": {"patch": ("403", "404", "422")},
        "/api/v1/units": {"get": (), "post": ("403", "409", "422")},
        "/api/v1/units/{key}": {"patch": ("403", "404", "422")},
        "/api/v1/categories": {"get": (), "post": ("403", "409", "422")},
        "/api/v1/categories/{key}": {"patch": ("403", "404", "422")},
        "/api/v1/staff": {"get": ("401", "403"), "post": ("403", "409", "422")},
        "/api/v1/staff/{staff_id}": {"get": ("404",), "patch": ("403", "404", "409", "422")},
        "/api/v1/cases/{reference}": {"get": ("401", "403", "404")},
        "/api/v1/cases/{reference}/replies": {"post": ("403", "404", "409", "422")},
    }
    for path, methods in expected.items():
        for method, codes in methods.items():
            operation = paths[path][method]
            answers = operation["responses"]
            ok = answers.get("200") or answers.get("201")
            assert ok and "$ref" in str(ok["content"]["application/json"]["schema"]), path
            for code in codes:
                assert code in answers, (path, method, code)
                schema = answers[code]["content"]["application/json"]["schema"]
                model = "Unprocessable" if code == "422" else "Problem"
                assert schema == {"$ref": f"#/components/schemas/{model}"}, (path, code)
    schemas = document["components"]["schemas"]
    assert {"forums", "units"} <= set(schemas["StaffMember"]["properties"])
    assert "quiet_hours" in schemas["AreaPublic"]["properties"]
    assert "Only the fields given change" in schemas["StaffUpdate"]["description"]
