"""The OpenAPI document is valid OpenAPI 3.1 and describes exactly the routes the app serves."""
from __future__ import annotations

import re

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from mockserver import Config, create_app
from mockserver.control.openapi import DATE_PATTERN, NOT_API_ENDPOINTS, REQUEST_DATE_PATTERN, document

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


def _shape(path: str) -> str:
    """A path with its parameters blanked: `/<int:account_id>/x` and `/{account_id}/x` both give `/{}/x`."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def _routes(app) -> set[tuple[str, str, str]]:
    """(path shape, method, endpoint) for every route the app serves, HEAD, static and the dashboard left out."""
    return {(_shape(rule.rule), method.lower(), rule.endpoint)
            for rule in app.url_map.iter_rules()
            if rule.endpoint != "static" and rule.endpoint not in NOT_API_ENDPOINTS
            for method in rule.methods if method not in ("HEAD", "OPTIONS")}


def _documented(doc: dict) -> set[tuple[str, str, str]]:
    return {(_shape(path), method, operation["operationId"])
            for path, item in doc["paths"].items()
            for method, operation in item.items() if method in HTTP_METHODS}


@pytest.fixture
def served(anonymous):
    response = anonymous.get("/__admin/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_the_served_document_is_valid_openapi_3_1(served):
    assert served["openapi"].startswith("3.1.")
    validate(served, cls=OpenAPIV31SpecValidator)  # raises on any violation


def test_the_served_document_is_the_built_one(served):
    assert served == document()


def test_every_route_is_documented_with_each_of_its_methods_and_nothing_else(app):
    routes, documented = _routes(app), _documented(document())
    assert routes, "the app has no routes?"
    assert routes - documented == set(), "routes the document does not describe"
    assert documented - routes == set(), "documented operations the app does not serve"


def test_the_app_serves_no_options_route_that_the_document_would_miss(app):
    # OPTIONS is answered with a JSON 405 (PROVIDE_AUTOMATIC_OPTIONS is off); were it served, it would need
    # documenting, so fail loudly rather than let `_routes` drop it.
    assert all("OPTIONS" not in rule.methods for rule in app.url_map.iter_rules() if rule.endpoint != "static")


def test_operation_ids_are_unique():
    ids = [operation["operationId"] for _, _, operation in _operations(document())]
    assert len(ids) == len(set(ids))


def _operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def _resolve(doc: dict, node: dict) -> dict:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = doc["components"][kind][name]
    return node


def test_path_parameters_match_the_path_template_and_ids_are_integers():
    doc = document()
    for path, _, operation in _operations(doc):
        params = [_resolve(doc, p) for p in operation.get("parameters", [])]
        in_path = {p["name"]: p for p in params if p["in"] == "path"}
        assert set(in_path) == set(re.findall(r"\{([^}]+)\}", path)), path
        for name, param in in_path.items():
            assert param["required"] is True
            if name.endswith("_id"):
                assert param["schema"]["type"] == "integer", (path, name)


def test_api_operations_use_basic_auth_and_admin_operations_do_not():
    doc = document()
    basic = doc["components"]["securitySchemes"]["basicAuth"]
    assert (basic["type"], basic["scheme"]) == ("http", "basic")
    for path, method, operation in _operations(doc):
        schemes = {name for requirement in operation["security"] for name in requirement}
        if path.startswith("/__admin"):
            assert "basicAuth" not in schemes, (method, path)
        else:
            assert operation["security"] == [{"basicAuth": []}], (method, path)


def test_every_response_is_json_and_errors_are_error_objects():
    doc = document()
    for path, method, operation in _operations(doc):
        for status, response in operation["responses"].items():
            response = _resolve(doc, response)
            if (path, status) == ("/__admin/requests/export", "200"):  # SPEC §6: the one Python answer
                assert list(response["content"]) == ["text/x-python"]
                continue
            assert list(response["content"]) == ["application/json"], (method, path, status)
            if status != "200":
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert doc["components"]["schemas"]["Error"]["required"] == ["error"]


def test_api_operations_document_every_status_the_server_can_send():
    doc = document()
    for path, method, operation in _operations(doc):
        if path.startswith("/__admin"):
            continue
        statuses = set(operation["responses"])
        assert {"200", "401", "403", "404", "405"} <= statuses, (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "503"} <= statuses, (method, path)
        if method != "get":
            assert "503" in statuses, (method, path)
        if any(_resolve(doc, p)["name"] == "count" for p in operation.get("parameters", [])):
            assert "400" in statuses  # bad paging values
            ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
            assert [branch.get("type") for branch in ok["oneOf"]] == ["array", None]  # array, or the Count $ref
    unauthorized = doc["components"]["responses"]["Unauthorized"]
    assert unauthorized["headers"]["WWW-Authenticate"]["required"] is True
    assert doc["components"]["responses"]["MethodNotAllowed"]["headers"]["Allow"]["required"] is True


@pytest.mark.parametrize("value, ok", [
    ("@D:2025-12-02T11:23:47", True),
    ("@D:2025-12-02T11:23", False),
    ("2025-12-02T11:23:47", False),
    ("@D:2025-12-02 11:23:47", False),
])
def test_the_response_date_pattern(value, ok):
    assert (re.search(DATE_PATTERN, value) is not None) is ok


@pytest.mark.parametrize("value, ok", [
    ("@D:2025-12-02T11:23:47", True),
    ("2025-12-02T11:23:47", True),
    ("2025-12-02T11:23:47.123Z", True),
    ("2025-12-02T11:23:47+02:00", True),
    ("2025-12-02T11:23:47+0200", False),
    ("2025-12-02", False),
    ("2025-12-02 11:23:47", False),
])
def test_the_request_date_pattern_matches_what_the_server_accepts(value, ok):
    from mockserver.core.dates import DateError, parse_date

    assert (re.search(REQUEST_DATE_PATTERN, value) is not None) is ok
    try:
        parse_date(value)
        accepted = True
    except DateError:
        accepted = False
    assert accepted is ok


def test_dates_in_responses_use_the_date_schema():
    schemas = document()["components"]["schemas"]
    for name, field in [("TouchpointType", "created_at"), ("Touchpoint", "touchpoint_timestamp"),
                        ("Touchpoint", "inserted_at"), ("Member", "member_since"), ("Clock", "now"),
                        ("JournalEntry", "time")]:
        assert schemas[name]["properties"][field] == {"$ref": "#/components/schemas/Date"}, (name, field)
    assert schemas["Date"]["pattern"] == DATE_PATTERN  # what the date tests above check, case by case


def test_the_document_is_readable_without_the_admin_token():
    app = create_app(Config(admin_token="s3cret"))
    client = app.test_client()
    assert client.get("/__admin/openapi.json").status_code == 200
    assert client.get("/__admin/state").status_code == 401  # the rest of the control API stays guarded


def test_each_call_gets_its_own_copy():
    first = document()
    first["paths"].clear()
    assert document()["paths"]


def _validator_for(doc: dict, path: str, method: str, status: int):
    """A JSON Schema validator for the documented body of `method path` answering `status`."""
    import jsonschema

    response = _resolve(doc, doc["paths"][path][method]["responses"][str(status)])
    schema = {**response["content"]["application/json"]["schema"], "components": doc["components"]}
    return jsonschema.Draft202012Validator(schema)


def test_real_answers_match_the_documented_schemas(client):
    """Answers schemathesis never sees after its per-case reset (a filled journal, faults, a frozen clock,
    a rate limit, error answers) checked against the document too."""
    doc = document()
    client.post("/100/touchpoints/members?x=1&x=2", json={"touchpoints": [{"email": "ann.smith@example.com",
                                                                          "type_name": "visited_website"}]})
    client.get("/100/touchpoints", headers={"Authorization": "Basic bm86bm8="})
    calls = [
        ("get", "/__admin/requests", "/__admin/requests", None, 200),
        ("get", "/__admin/requests", "/__admin/requests?count=true", None, 200),
        ("post", "/__admin/faults", "/__admin/faults", {"path": "/999/*", "status": 503, "times": 2,
                                                        "delay_ms": [0, 1], "seed": "s"}, 200),
        ("get", "/__admin/faults", "/__admin/faults", None, 200),
        ("post", "/__admin/faults", "/__admin/faults", {"path": "nope"}, 400),
        ("delete", "/__admin/faults/{fault_id}", "/__admin/faults/999", None, 404),
        ("put", "/__admin/clock", "/__admin/clock", {"now": "2030-01-02T03:04:05.6+01:00"}, 200),
        ("get", "/__admin/clock", "/__admin/clock", None, 200),
        ("put", "/__admin/rate-limit", "/__admin/rate-limit", {"requests": 1, "per_seconds": 60}, 200),
        ("get", "/__admin/rate-limit", "/__admin/rate-limit", None, 200),
        ("get", "/{account_id}/members", "/100/members", None, 200),
        ("get", "/{account_id}/members", "/100/members", None, 403),  # past the rate limit
        ("delete", "/__admin/rate-limit", "/__admin/rate-limit", None, 200),
        ("get", "/__admin/rate-limit", "/__admin/rate-limit", None, 200),
        ("get", "/__admin/state", "/__admin/state", None, 200),
        ("get", "/{account_id}/touchpoints/members/{member_id}", "/100/touchpoints/members/444", None, 200),
        ("get", "/{account_id}/touchpoints/members/{member_id}", "/100/touchpoints/members/444?end=1&start=2",
         None, 400),
        ("post", "/{account_id}/members/add", "/100/members/add", {"email": "ANN.smith@example.com",
                                                                   "fields": {"x": 1}}, 200),
        ("get", "/{account_id}/members/email/{email}", "/100/members/email/ann.SMITH@example.com", None, 200),
        ("get", "/{account_id}/touchpoints/{touchpoint_type_id}", "/100/touchpoints/400", None, 404),
        ("get", "/{account_id}/touchpoints/{touchpoint_type_id}", "/101/touchpoints/400", None, 403),
        ("delete", "/{account_id}/touchpoints/{touchpoint_type_id}", "/100/touchpoints/300", None, 200),
    ]
    for method, template, url, body, status in calls:
        response = getattr(client, method)(url, json=body) if body is not None else getattr(client, method)(url)
        assert response.status_code == status, (method, url, response.get_json())
        assert response.mimetype == "application/json"
        errors = list(_validator_for(doc, template, method, status).iter_errors(response.get_json()))
        assert not errors, (method, url, [e.message for e in errors])
    journal = client.get("/__admin/requests").get_json()
    assert journal and all(isinstance(entry["status"], int) for entry in journal)


def test_unauthorized_and_wrong_verb_answers_carry_their_documented_headers(anonymous):
    response = anonymous.get("/100/members")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Emma API"'
    response = anonymous.patch("/__admin/clock")
    assert response.status_code == 405 and response.mimetype == "application/json"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "PUT", "DELETE"}


def test_a_body_over_10_mib_gets_the_documented_413(client):
    response = client.post("/100/touchpoints", data=b"x" * (10 * 1024 * 1024 + 1))
    assert response.status_code == 413
    errors = list(_validator_for(document(), "/{account_id}/touchpoints", "post", 413)
                  .iter_errors(response.get_json()))
    assert not errors
