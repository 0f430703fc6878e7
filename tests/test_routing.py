"""API paths are routed by table (serving/routing.py): it must agree with werkzeug's matcher on every path."""
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException

from mockserver.serving.app import create_app
from mockserver.serving.routing import IdRoutes

APP = create_app()
ROUTES = IdRoutes(APP.url_map, "id")
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


def werkzeug_match(method, path):
    """What werkzeug's matcher answers, as the app binds it; an HTTPException's class when it refuses."""
    adapter = APP.url_map.bind("localhost")
    try:
        rule, args = adapter.match(path, method=method, return_rule=True)
    except HTTPException as refusal:
        return type(refusal)
    return rule, args


def id_only_rules():
    """Routes of literals and `<id:...>` segments only (the others, such as `<path:email>`, stay with werkzeug)."""
    return [rule for rule in APP.url_map.iter_rules()
            if rule.rule != "/" and all(not part.startswith("<") or part.startswith("<id:")
                                        for part in rule.rule.split("/"))]


def test_every_route_of_literals_and_ids_is_in_the_table():
    rules = id_only_rules()
    assert sum(rule.rule.startswith("/<id:") for rule in rules) >= 10
    for rule in rules:
        path = rule.rule.replace("<id:account_id>", "100")
        while "<id:" in path:
            start = path.index("<id:")
            path = path[:start] + "300" + path[path.index(">", start) + 1:]
        for method in rule.methods:
            found = ROUTES.match(method, path)
            assert found is not None, (method, path)
            assert found == werkzeug_match(method, path)


@pytest.mark.parametrize("path", [
    "/100/touchpoints/300", "/100/touchpoints", "/100/touchpoints/members", "/100/touchpoints/members/444",
    "/100/touchpoints/members/touchpoints/1", "/0/touchpoints/0", "/999999999999999999/touchpoints",
])
def test_known_shapes_match_as_werkzeug_does(path):
    for method in METHODS:
        found = ROUTES.match(method, path)
        expected = werkzeug_match(method, path)
        if found is None:
            assert not isinstance(expected, tuple) or expected[0].rule.startswith("/__"), (method, path, expected)
        else:
            assert found == expected, (method, path)


@pytest.mark.parametrize("path", [
    "/0100/touchpoints/300",            # leading zero: no id
    "/100/touchpoints/０３００",          # Unicode digits (the attack's auth bypass)
    "/١٠٠/touchpoints",
    "/1000000000000000000/touchpoints",  # 19 digits: over the id limit
    "/100//touchpoints",
    "/100/touchpoints/300/extra",
    "/100/Touchpoints/300",
    "/100/touchpoints/+300",
    "/100/touchpoints/-1",
    "/100/touchpoints/3 00",
    "/100/members/email/someone@example.com",  # <path:email>
    "/__dashboard/dashboard.js",                 # <path:...>
    "/",
])
def test_other_paths_are_left_to_werkzeug(path):
    for method in METHODS:
        assert ROUTES.match(method, path) is None, (method, path)


def test_control_api_routes_match_as_werkzeug_does():
    answered = 0
    for path in ("/__admin/requests", "/__admin/faults", "/__admin/reset", "/__admin/faults/7"):
        for method in METHODS:
            found = ROUTES.match(method, path)
            if found is not None:
                answered += 1
                assert found == werkzeug_match(method, path)
    assert answered >= 4  # each of these routes is one of literals and ids: the table answers them


def test_no_path_another_route_could_take_is_answered_from_the_table():
    """`/{id}/members/email/<path:email>` takes any tail: even a path shaped like ids stays with werkzeug."""
    from werkzeug.routing import Map, Rule

    url_map = Map([Rule("/<id:a>/members/email/<path:email>", endpoint="by_email", methods=["GET"]),
                   Rule("/<id:a>/members/email/<id:b>", endpoint="by_id", methods=["GET"]),
                   Rule("/<id:a>/members", endpoint="m", methods=["GET"])],
                  converters={"id": APP.url_map.converters["id"]})
    routes = IdRoutes(url_map, "id")
    assert routes.match("GET", "/100/members/email/7") is None
    assert routes.match("GET", "/100/members") is not None


def test_a_method_the_route_lacks_is_left_to_werkzeug_for_its_405():
    client = APP.test_client()
    for method, path, allowed in (("PATCH", "/100/touchpoints/300", "DELETE, GET, HEAD, PUT"),
                                  ("OPTIONS", "/100/touchpoints", "GET, HEAD, POST")):
        assert ROUTES.match(method, path) is None
        answer = client.open(path, method=method, auth=("demo-public-key", "demo-private-key"))
        assert (answer.status_code, answer.headers["Allow"], answer.json) == (
            405, allowed, {"error": f"{method} is not allowed on {path}; allowed: {allowed}"})


SEGMENTS = st.one_of(
    st.sampled_from(["touchpoints", "members", "email", "a@b.c", "100", "101", "300", "0", "00", "007", "444", "",
                     "__admin", "__dashboard", "requests", "faults"]),
    st.integers(min_value=0, max_value=10**19).map(str),
    st.text(alphabet=string.digits + "０١a/%-+ ", max_size=6),
)


@settings(max_examples=400, deadline=None)
@given(segments=st.lists(SEGMENTS, min_size=1, max_size=6), method=st.sampled_from(METHODS))
def test_the_table_never_disagrees_with_werkzeug(segments, method):
    path = "/" + "/".join(segments)
    found = ROUTES.match(method, path)
    if found is not None:
        assert found == werkzeug_match(method, path)


def test_requests_are_routed_by_the_table(monkeypatch):
    """The app really asks the table, once per API request, and the request reaches its view."""
    app = create_app()
    calls = []
    original = IdRoutes.match
    monkeypatch.setattr(IdRoutes, "match", lambda self, m, p: calls.append(p) or original(self, m, p))
    client = app.test_client()
    answer = client.get("/100/touchpoints/300", headers={"Authorization": "Basic ZGVtby1wdWJsaWMta2V5OmRlbW8tcHJpdmF0ZS1rZXk="})
    assert answer.status_code == 200 and answer.get_json()["touchpoint_type_id"] == 300
    assert calls == ["/100/touchpoints/300"]


def test_a_websocket_upgrade_is_answered_as_the_plain_request_it_also_is():
    """The mock speaks no WebSocket: a request asking to upgrade gets the answer it gets without asking
    (a server may ignore Upgrade), through the table; werkzeug alone would refuse it with a 405 whose
    message said GET is not allowed. The journal keeps the Upgrade header as it came."""
    app = create_app()
    client = app.test_client()
    keys = ("demo-public-key", "demo-private-key")
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket"}
    for path in ("/100/touchpoints/300", "/100/touchpoints", "/100/members/444", "/__admin/health", "/"):
        plain = client.get(path, auth=keys)
        asked = client.get(path, headers=upgrade, auth=keys)
        assert asked.status_code == plain.status_code == 200 and asked.get_data() == plain.get_data(), (
            path, asked.status_code, asked.get_data())
    journal = client.get("/__admin/requests").json
    assert [entry["headers"].get("Upgrade") for entry in journal] == [None, "websocket"] * 3
    made = client.post("/100/touchpoints", headers=upgrade, auth=keys, json={"type_name": "up", "display_name": "Up"})
    assert made.status_code == 200 and made.json["type_name"] == "up"  # any method: werkzeug's test is not per method
    refused = client.delete("/100/touchpoints/300/x", headers=upgrade, auth=keys)  # still the routes' own 404
    assert refused.status_code == 404 and refused.json == {"error": "no such endpoint: DELETE /100/touchpoints/300/x"}
