"""Touchpoints of members: batch create, list by member, get, delete."""
import re

DATE = re.compile(r"^@D:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
TOUCHPOINT_FIELDS = {"account_id", "touchpoint_id", "member_id", "touchpoint_type_id", "touchpoint_timestamp",
                     "touchpoint_monetary_value", "mailing_id", "attributes", "inserted_at"}


def create(client, *items, account=100, **kwargs):
    return client.post(f"/{account}/touchpoints/members", json={"touchpoints": list(items)}, **kwargs)


def test_get_one_touchpoint_has_every_field(client):
    response = client.get("/100/touchpoints/members/touchpoints/3")
    assert response.status_code == 200
    assert response.json == {
        "account_id": 100, "touchpoint_id": 3, "member_id": 444, "touchpoint_type_id": 200,
        "touchpoint_timestamp": "@D:2025-12-03T09:15:00", "touchpoint_monetary_value": 49.5,
        "mailing_id": 12345, "attributes": {"tickets": 2, "event": "Winter Gala"},
        "inserted_at": "@D:2025-12-03T09:15:02"}


def test_batch_create_returns_the_touchpoints_in_request_order_each_with_its_own_id(client):
    response = create(client,
                      {"member_id": 555, "touchpoint_type_id": 300, "touchpoint_monetary_value": 8},
                      {"email": "ann.smith@example.com", "type_name": "purchased_tickets",
                       "touchpoint_monetary_value": 2.5, "mailing_id": 77, "attributes": {"seat": "A1"},
                       "touchpoint_timestamp": "2025-12-02T12:23:47+01:00"})
    assert response.status_code == 200
    first, second = response.json
    assert set(first) == TOUCHPOINT_FIELDS and set(second) == TOUCHPOINT_FIELDS
    assert first["member_id"] == 555 and first["touchpoint_type_id"] == 300
    assert first["touchpoint_monetary_value"] == 8.0 and isinstance(first["touchpoint_monetary_value"], float)
    assert first["mailing_id"] is None and first["attributes"] is None
    assert DATE.match(first["touchpoint_timestamp"]) and first["touchpoint_timestamp"] == first["inserted_at"]
    assert second["member_id"] == 444 and second["touchpoint_type_id"] == 200
    assert second["mailing_id"] == 77 and second["attributes"] == {"seat": "A1"}
    assert second["touchpoint_timestamp"] == "@D:2025-12-02T11:23:47"  # converted to UTC
    assert second["touchpoint_id"] == first["touchpoint_id"] + 1
    assert first["touchpoint_id"] > 4  # above the fixtures' ids
    for created in response.json:
        assert client.get(f"/100/touchpoints/members/touchpoints/{created['touchpoint_id']}").json == created


def test_email_matches_case_insensitively(client):
    response = create(client, {"email": "ANN.Smith@EXAMPLE.com", "touchpoint_type_id": 300})
    assert response.status_code == 200
    assert response.json[0]["member_id"] == 444


def test_member_id_and_email_may_both_name_the_same_member(client):
    response = create(client, {"member_id": 444, "email": "ann.smith@example.com",
                               "touchpoint_type_id": 300, "type_name": "visited_website"})
    assert response.status_code == 200
    [stored] = response.json
    assert (stored["member_id"], stored["touchpoint_type_id"], stored["account_id"]) == (444, 300, 100)
    assert client.get(f"/100/touchpoints/members/touchpoints/{stored['touchpoint_id']}").json == stored


def test_batch_size_is_one_to_ten(client):
    item = {"member_id": 444, "touchpoint_type_id": 300}
    assert create(client, *[item] * 10).status_code == 200
    assert len(create(client, *[item] * 10).json) == 10
    for body in ({"touchpoints": []}, {"touchpoints": [item] * 11}, {}, {"touchpoints": item},
                 {"touchpoints": None}):
        response = client.post("/100/touchpoints/members", json=body)
        assert response.status_code == 400, body
        assert "touchpoints" in response.json["error"]


def test_bad_items_are_refused_with_index_and_field(client):
    cases = [
        ({"touchpoint_type_id": 300}, "member"),
        ({"member_id": "444", "touchpoint_type_id": 300}, "member_id"),
        ({"member_id": None, "touchpoint_type_id": 300}, "member_id"),
        ({"member_id": True, "touchpoint_type_id": 300}, "member_id"),
        ({"member_id": 999999, "touchpoint_type_id": 300}, "member_id"),
        ({"email": "nobody@example.com", "touchpoint_type_id": 300}, "email"),
        ({"member_id": 444, "email": "bob.jones@example.com", "touchpoint_type_id": 300}, "different"),
        ({"member_id": 666, "touchpoint_type_id": 300}, "member_id"),  # account 101's member
        ({"member_id": 444}, "type"),
        ({"member_id": 444, "touchpoint_type_id": 999}, "touchpoint_type_id"),
        ({"member_id": 444, "touchpoint_type_id": 400}, "touchpoint_type_id"),  # account 101's type
        ({"member_id": 444, "type_name": "nope"}, "type_name"),
        ({"member_id": 444, "touchpoint_type_id": 300, "type_name": "purchased_tickets"}, "different"),
        ({"member_id": 444, "touchpoint_type_id": "300"}, "touchpoint_type_id"),
        ({"member_id": 444, "touchpoint_type_id": 300, "touchpoint_monetary_value": "8"}, "touchpoint_monetary_value"),
        ({"member_id": 444, "touchpoint_type_id": 300, "touchpoint_monetary_value": True}, "touchpoint_monetary_value"),
        ({"member_id": 444, "touchpoint_type_id": 300, "mailing_id": 1.5}, "mailing_id"),
        ({"member_id": 444, "touchpoint_type_id": 300, "mailing_id": "12"}, "mailing_id"),
        ({"member_id": 444, "touchpoint_type_id": 300, "attributes": [1, 2]}, "attributes"),
        ({"member_id": 444, "touchpoint_type_id": 300, "attributes": "x"}, "attributes"),
        ({"member_id": 444, "touchpoint_type_id": 300, "touchpoint_timestamp": "2025-12-02"}, "touchpoint_timestamp"),
        ({"member_id": 444, "touchpoint_type_id": 300, "touchpoint_timestamp": 1733138627}, "touchpoint_timestamp"),
        ("not an object", "touchpoints[1]"),
    ]
    good = {"member_id": 555, "touchpoint_type_id": 300}
    for bad, word in cases:
        response = create(client, good, bad)
        assert response.status_code == 400, bad
        assert "touchpoints[1]" in response.json["error"], (bad, response.json)
        assert word in response.json["error"], (bad, response.json)


def test_an_item_with_several_bad_fields_names_the_first_in_the_checking_order(client):
    """The value, then the timestamp, then the other fields: the order the error messages always had."""
    cases = [
        ({"member_id": "444", "touchpoint_timestamp": "yesterday"}, "touchpoints[0].touchpoint_timestamp:"),
        ({"mailing_id": "x", "touchpoint_monetary_value": 10**400}, "touchpoints[0].touchpoint_monetary_value is too"),
        ({"member_id": "444", "touchpoint_monetary_value": "8"}, "touchpoints[0].touchpoint_monetary_value must be"),
        ({"attributes": 1, "member_id": "444"}, "touchpoints[0].member_id must be an integer"),
    ]
    for bad, expected in cases:
        response = create(client, bad)
        assert response.status_code == 400, bad
        assert response.json["error"].startswith(expected), (bad, response.json)


def test_one_bad_item_stores_nothing(client):
    before = client.get("/__admin/state").json["touchpoints"]
    response = create(client, *[{"member_id": 444, "touchpoint_type_id": 300}] * 5,
                      {"member_id": 444, "touchpoint_type_id": 12345})
    assert response.status_code == 400
    assert "touchpoints[5]" in response.json["error"]
    assert client.get("/__admin/state").json["touchpoints"] == before
    # and no id was burned into a visible gap that matters: the next create still succeeds
    assert create(client, {"member_id": 444, "touchpoint_type_id": 300}).status_code == 200


def test_null_optional_fields_and_missing_timestamp(client):
    response = create(client, {"member_id": 444, "touchpoint_type_id": 300, "touchpoint_monetary_value": None,
                               "mailing_id": None, "attributes": None})
    assert response.status_code == 200
    created = response.json[0]
    assert created["touchpoint_monetary_value"] is None
    assert created["touchpoint_timestamp"] == created["inserted_at"]


def test_a_null_timestamp_is_not_a_date(client):
    response = create(client, {"member_id": 444, "touchpoint_type_id": 300, "touchpoint_timestamp": None})
    assert response.status_code == 400
    assert "touchpoints[0].touchpoint_timestamp" in response.json["error"]


def test_member_touchpoints_are_ordered_by_timestamp_then_id(client):
    create(client, {"member_id": 444, "touchpoint_type_id": 300, "touchpoint_timestamp": "@D:2020-01-01T00:00:00"},
           {"member_id": 444, "touchpoint_type_id": 200, "touchpoint_timestamp": "@D:2025-12-02T11:23:47"})
    listed = client.get("/100/touchpoints/members/444").json
    keys = [(t["touchpoint_timestamp"], t["touchpoint_id"]) for t in listed]
    assert keys == sorted(keys)
    assert keys[0][0] == "@D:2020-01-01T00:00:00"
    assert {t["member_id"] for t in listed} == {444}
    assert all(set(t) == TOUCHPOINT_FIELDS for t in listed)


def test_member_without_touchpoints_lists_empty_and_unknown_member_is_404(client):
    client.post("/100/members/add", json={"email": "new@example.com"})
    member_id = client.get("/100/members/email/new@example.com").json["member_id"]
    assert client.get(f"/100/touchpoints/members/{member_id}").json == []
    assert client.get("/100/touchpoints/members/999999").status_code == 404
    assert client.get("/100/touchpoints/members/666").status_code == 404  # account 101's member


def test_delete_touchpoint(client):
    response = client.delete("/100/touchpoints/members/touchpoints/2")
    assert response.status_code == 200 and response.json is True
    assert client.get("/100/touchpoints/members/touchpoints/2").status_code == 404
    assert client.delete("/100/touchpoints/members/touchpoints/2").status_code == 404
    assert [t["touchpoint_id"] for t in client.get("/100/touchpoints/members/444").json] == [3]


def test_ids_are_never_reused(client):
    first = create(client, {"member_id": 444, "touchpoint_type_id": 300}).json[0]["touchpoint_id"]
    client.delete(f"/100/touchpoints/members/touchpoints/{first}")
    second = create(client, {"member_id": 444, "touchpoint_type_id": 300}).json[0]["touchpoint_id"]
    assert second == first + 1


def test_ids_come_from_one_sequence_shared_by_all_accounts(client, other):
    a = create(client, {"member_id": 444, "touchpoint_type_id": 300}).json[0]["touchpoint_id"]
    b = create(other, {"member_id": 666, "touchpoint_type_id": 400}, account=101).json[0]["touchpoint_id"]
    assert b == a + 1
