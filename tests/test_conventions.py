"""Wire conventions shared by every endpoint: auth, errors, JSON, paging, count."""
import base64

import pytest

from helpers import AUTH_REQUIRED, basic

# --- authentication ----------------------------------------------------------------------

def test_no_credentials_is_401_with_a_basic_challenge(anonymous):
    response = anonymous.get("/100/touchpoints")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Emma API"'
    assert response.content_type == "application/json"
    assert "error" in response.json


@pytest.mark.parametrize("user,password", [("demo-public-key", "wrong"), ("nobody", "demo-private-key"),
                                           ("demo-private-key", "demo-public-key"), ("", "")])
def test_unknown_credentials_are_401(anonymous, user, password):
    response = anonymous.get("/100/touchpoints", headers=basic(user, password))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Emma API"'


NOT_YOURS = {"error": "these API keys belong to account 101, not to account 100"}


def test_malformed_authorization_header_is_401(anonymous):
    for header in ("Basic !!!notbase64", "Bearer abc", "Basic " + base64.b64encode(b"nocolon").decode(), "garbage"):
        response = anonymous.get("/100/touchpoints", headers={"Authorization": header})
        assert (response.status_code, response.json) == (401, AUTH_REQUIRED), header
        assert response.headers["WWW-Authenticate"] == 'Basic realm="Emma API"'


def test_another_accounts_keys_are_403(other):
    response = other.get("/100/touchpoints")
    assert response.status_code == 403
    assert "error" in response.json


def test_auth_comes_before_404_405_and_400(anonymous, other):
    for response in (anonymous.get("/100/no/such/path"), anonymous.patch("/100/touchpoints"),
                     anonymous.post("/100/touchpoints", data="{not json")):
        assert (response.status_code, response.json) == (401, AUTH_REQUIRED), response.request.path
        assert response.headers["WWW-Authenticate"] == 'Basic realm="Emma API"'
    for response in (other.get("/100/touchpoints/999999"), other.post("/100/touchpoints", data="{not json")):
        assert (response.status_code, response.json) == (403, NOT_YOURS), response.request.path


def test_unknown_account_is_401_or_403_with_auth_and_404_without(anonymous, client):
    assert anonymous.get("/999/touchpoints").status_code == 401
    assert client.get("/999/touchpoints").status_code == 403
    from mockserver import Config, create_app
    open_client = create_app(Config(auth=False)).test_client()
    assert open_client.get("/999/touchpoints").status_code == 404
    assert open_client.get("/100/touchpoints").status_code == 200
    assert open_client.get("/101/touchpoints").json[0]["account_id"] == 101


# --- JSON in and out ---------------------------------------------------------------------

def test_body_is_json_whatever_the_content_type(client):
    body = '{"type_name": "t1", "display_name": "T1"}'
    for name, content_type in (("t1", "text/plain"), ("t2", None), ("t3", "application/x-www-form-urlencoded")):
        response = client.post("/100/touchpoints", data=body.replace("t1", name), content_type=content_type)
        assert response.status_code == 200, response.json
        assert (response.json["type_name"], response.json["display_name"]) == (name, "T1"), content_type
    assert [t["type_name"] for t in client.get("/100/touchpoints").json][-3:] == ["t1", "t2", "t3"]


@pytest.mark.parametrize("raw", ["{not json", "", "   ", '{"type_name": NaN, "display_name": "x"}',
                                 '{"type_name": "x", "display_name": Infinity}', "[1, 2]", "null", '"text"',
                                 b"\xff\xfe\x00garbage", '{"a": ' * 100000])
def test_malformed_or_wrong_shaped_json_is_400(client, raw):
    response = client.post("/100/touchpoints", data=raw)
    assert response.status_code == 400
    assert response.content_type == "application/json"
    assert isinstance(response.json["error"], str)


def test_body_over_10_mib_is_413(client):
    response = client.post("/100/touchpoints", data=b" " * (10 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.content_type == "application/json"
    assert "error" in response.json


def test_body_of_exactly_10_mib_is_read(client):
    body = b'{"type_name": "big", "display_name": "Big"}'
    response = client.post("/100/touchpoints", data=body + b" " * (10 * 1024 * 1024 - len(body)))
    assert response.status_code == 200


def test_unknown_path_is_404_json(client, anonymous):  # `/` is the dashboard
    for path in ("/nothing", "/100/nothing", "/100/touchpoints/abc", "/100/touchpoints/members/x",
                 "/abc/touchpoints"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.content_type == "application/json"
        assert "error" in response.json
    assert anonymous.get("/nothing").status_code == 404  # not under an account: no auth needed to learn that


def test_wrong_verb_is_405_with_allow(client):
    cases = {("PATCH", "/100/touchpoints"): {"GET", "POST"},
             ("POST", "/100/touchpoints/300"): {"GET", "PUT", "DELETE"},
             ("GET", "/100/touchpoints/members"): {"POST"},
             ("PUT", "/100/touchpoints/members/444"): {"GET"},
             ("OPTIONS", "/100/touchpoints/members/touchpoints/1"): {"GET", "DELETE"}}
    for (method, path), allowed in cases.items():
        response = client.open(path, method=method)
        assert response.status_code == 405, (method, path)
        assert response.content_type == "application/json"
        assert allowed <= set(response.headers["Allow"].replace(" ", "").split(",")), response.headers["Allow"]
        assert "error" in response.json


def test_trailing_slash_is_accepted(client):
    assert client.get("/100/touchpoints/").json == client.get("/100/touchpoints").json
    assert client.get("/100/touchpoints/300/").status_code == 200
    assert client.post("/100/touchpoints/", json={"type_name": "slash", "display_name": "S"}).status_code == 200


def test_success_is_200_for_every_verb(client):
    created = client.post("/100/touchpoints", json={"type_name": "a", "display_name": "A"})
    assert created.status_code == 200 and (created.json["type_name"], created.json["display_name"]) == ("a", "A")
    updated = client.put("/100/touchpoints/300", json={"type_name": "b", "display_name": "B"})
    assert updated.status_code == 200
    assert (updated.json["touchpoint_type_id"], updated.json["type_name"], updated.json["display_name"]) == (300, "b", "B")
    response = client.delete("/100/touchpoints/300")
    assert response.status_code == 200 and response.data == b"true"


# --- paging and count --------------------------------------------------------------------

@pytest.fixture
def many_types(client):
    for i in range(600):
        assert client.post("/100/touchpoints", json={"type_name": f"t{i:03}", "display_name": f"T{i}"}).status_code == 200
    return client


def test_a_page_holds_at_most_500(many_types):
    assert len(many_types.get("/100/touchpoints").json) == 500
    assert len(many_types.get("/100/touchpoints?start=0&end=10000").json) == 500
    assert len(many_types.get("/100/touchpoints?start=500").json) == 102
    page = many_types.get("/100/touchpoints?start=2&end=5").json
    assert [t["type_name"] for t in page] == ["t000", "t001", "t002"]
    assert many_types.get("/100/touchpoints?start=5000").json == []
    assert many_types.get("/100/touchpoints?start=3&end=3").json == []


@pytest.mark.parametrize("value", ["true", "True", "1"])
def test_count_returns_the_size_of_the_whole_list(many_types, value):
    response = many_types.get(f"/100/touchpoints?count={value}&start=1&end=2")
    assert response.status_code == 200
    assert response.json == 602


def test_count_false_lists(client):
    assert isinstance(client.get("/100/touchpoints?count=false").json, list)


@pytest.mark.parametrize("query", ["start=-1", "start=abc", "end=-5", "start=5&end=2", "start=1.5", "end=",
                                   "start=%EF%BC%91"])
def test_bad_paging_is_400(client, query):
    for path in ("/100/touchpoints", "/100/touchpoints/members/444", "/100/members"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert "error" in response.json


@pytest.mark.parametrize("query", ["start=99999999999999999999", "start=" + "9" * 5000,
                                   "start=3&end=" + "9" * 30, "start=0005&end=0007"])
def test_huge_paging_values_are_integers_too(client, query):
    response = client.get(f"/100/touchpoints?{query}")
    assert response.status_code == 200
    assert isinstance(response.json, list) and len(response.json) <= 2


def test_unknown_query_parameters_are_ignored(client):
    response = client.get("/100/touchpoints?foo=bar")
    assert response.status_code == 200 and response.json == client.get("/100/touchpoints").json
    assert [t["touchpoint_type_id"] for t in response.json] == [300, 200]


def test_member_touchpoints_page_and_count(client):
    assert client.get("/100/touchpoints/members/444?count=True").json == 2
    assert [t["touchpoint_id"] for t in client.get("/100/touchpoints/members/444?start=1").json] == [3]


@pytest.mark.parametrize("extra", ['"touchpoint_monetary_value": 1e400', '"attributes": {"x": -1e999}'])
def test_numbers_too_large_for_a_float_are_400_not_infinity(client, extra):
    body = '{"touchpoints": [{"member_id": 444, "touchpoint_type_id": 300, ' + extra + '}]}'
    response = client.post("/100/touchpoints/members", data=body)
    assert response.status_code == 400
    assert "too large" in response.json["error"]
    assert "Infinity" not in client.get("/100/touchpoints/members/444").get_data(as_text=True)


def test_member_fields_cannot_smuggle_infinity(client):
    response = client.post("/100/members/add", data='{"email": "inf@example.com", "fields": {"n": 1e999}}')
    assert response.status_code == 400
    assert "Infinity" not in client.get("/100/members").get_data(as_text=True)
