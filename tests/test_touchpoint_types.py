"""Touchpoint types: create, list, get, update, delete (as the vendor page describes them)."""
import re

DATE = re.compile(r"^@D:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
TYPE_FIELDS = {"account_id", "touchpoint_type_id", "type_name", "display_name", "created_at"}


def test_list_shows_the_vendor_sample_types_oldest_first(client):
    response = client.get("/100/touchpoints")
    assert response.status_code == 200
    assert response.content_type == "application/json"
    assert response.json == [
        {"account_id": 100, "touchpoint_type_id": 300, "type_name": "visited_website",
         "display_name": "Visited Website", "created_at": "@D:2025-11-24T10:23:10"},
        {"account_id": 100, "touchpoint_type_id": 200, "type_name": "purchased_tickets",
         "display_name": "Purchased Tickets", "created_at": "@D:2025-11-25T10:32:44"},
    ]


def test_create_returns_the_new_type_with_a_fresh_id(client):
    response = client.post("/100/touchpoints", json={"type_name": "opened_email", "display_name": "Opened Email"})
    assert response.status_code == 200
    created = response.json
    assert set(created) == TYPE_FIELDS
    assert created["account_id"] == 100
    assert created["type_name"] == "opened_email"
    assert created["display_name"] == "Opened Email"
    assert created["touchpoint_type_id"] > 400  # above every id in the fixtures
    assert DATE.match(created["created_at"])
    assert client.get(f"/100/touchpoints/{created['touchpoint_type_id']}").json == created
    assert client.get("/100/touchpoints").json[-1] == created  # newest last


def test_create_requires_both_names(client):
    for body in ({}, {"type_name": "x"}, {"display_name": "X"}, {"type_name": "", "display_name": "X"},
                 {"type_name": "x", "display_name": "   "}, {"type_name": 5, "display_name": "X"},
                 {"type_name": "x", "display_name": None}):
        response = client.post("/100/touchpoints", json=body)
        assert response.status_code == 400, body
        assert isinstance(response.json["error"], str)


def test_create_refuses_a_type_name_already_used_in_the_account(client):
    response = client.post("/100/touchpoints", json={"type_name": "visited_website", "display_name": "Again"})
    assert response.status_code == 400
    assert "visited_website" in response.json["error"]


def test_type_names_are_compared_exactly(client):
    response = client.post("/100/touchpoints", json={"type_name": "Visited_Website", "display_name": "Case"})
    assert response.status_code == 200
    assert response.json["type_name"] == "Visited_Website" and response.json["touchpoint_type_id"] not in (200, 300)
    names = [t["type_name"] for t in client.get("/100/touchpoints").json]
    assert names.count("visited_website") == 1 and names.count("Visited_Website") == 1


def test_the_same_type_name_may_exist_in_another_account(other):
    response = other.post("/101/touchpoints", json={"type_name": "visited_website", "display_name": "V"})
    assert response.status_code == 200
    assert response.json["account_id"] == 101


def test_get_one_type(client):
    response = client.get("/100/touchpoints/200")
    assert response.status_code == 200
    assert response.json == {"account_id": 100, "touchpoint_type_id": 200, "type_name": "purchased_tickets",
                             "display_name": "Purchased Tickets", "created_at": "@D:2025-11-25T10:32:44"}


def test_get_unknown_type_is_404(client):
    response = client.get("/100/touchpoints/999999")
    assert response.status_code == 404
    assert "999999" in response.json["error"]


def test_update_renames_and_keeps_created_at(client):
    response = client.put("/100/touchpoints/200", json={"type_name": "new_purchased_tickets",
                                                        "display_name": "New Purchased Tickets"})
    assert response.status_code == 200
    assert response.json == {"account_id": 100, "touchpoint_type_id": 200, "type_name": "new_purchased_tickets",
                             "display_name": "New Purchased Tickets", "created_at": "@D:2025-11-25T10:32:44"}
    assert client.get("/100/touchpoints/200").json == response.json
    # the old name is free again, the new one is taken
    assert client.post("/100/touchpoints", json={"type_name": "purchased_tickets", "display_name": "P"}).status_code == 200
    assert client.post("/100/touchpoints", json={"type_name": "new_purchased_tickets",
                                                 "display_name": "P"}).status_code == 400


def test_update_may_keep_its_own_name(client):
    response = client.put("/100/touchpoints/200", json={"type_name": "purchased_tickets", "display_name": "Tickets"})
    assert response.status_code == 200
    assert response.json["display_name"] == "Tickets"


def test_update_refuses_another_types_name(client):
    response = client.put("/100/touchpoints/200", json={"type_name": "visited_website", "display_name": "X"})
    assert response.status_code == 400
    assert client.get("/100/touchpoints/200").json["type_name"] == "purchased_tickets"


def test_update_requires_both_fields_and_an_existing_type(client):
    for path, body, status, error in (
            ("/100/touchpoints/200", {"type_name": "only_name"}, 400,
             "'display_name' is required and must be a non-empty string"),
            ("/100/touchpoints/200", {"display_name": "Only display"}, 400,
             "'type_name' is required and must be a non-empty string"),
            ("/100/touchpoints/424242", {"type_name": "a", "display_name": "A"}, 404,
             "no touchpoint type with id 424242 in account 100")):
        response = client.put(path, json=body)
        assert (response.status_code, response.json) == (status, {"error": error}), body
    assert client.get("/100/touchpoints/200").json["type_name"] == "purchased_tickets"  # unchanged


def test_delete_removes_the_type_and_its_touchpoints(client):
    assert client.get("/100/touchpoints/members/touchpoints/1").status_code == 200
    response = client.delete("/100/touchpoints/300")
    assert response.status_code == 200
    assert response.json is True
    assert client.get("/100/touchpoints/300").status_code == 404
    # touchpoints 1 and 2 were of type 300; 3 (type 200) stays
    assert client.get("/100/touchpoints/members/touchpoints/1").status_code == 404
    assert client.get("/100/touchpoints/members/touchpoints/2").status_code == 404
    assert client.get("/100/touchpoints/members/touchpoints/3").status_code == 200
    assert [t["touchpoint_type_id"] for t in client.get("/100/touchpoints/members/444").json] == [200]
    assert client.delete("/100/touchpoints/300").status_code == 404


def test_deleted_type_name_can_be_reused_with_a_new_id(client):
    client.delete("/100/touchpoints/300")
    response = client.post("/100/touchpoints", json={"type_name": "visited_website", "display_name": "Again"})
    assert response.status_code == 200
    assert response.json["touchpoint_type_id"] not in (200, 300, 400)
