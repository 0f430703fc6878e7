"""Members: the subset of the members API that touchpoints need."""
import re

DATE = re.compile(r"^@D:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def test_add_a_new_member_then_read_it_back(client):
    response = client.post("/100/members/add", json={"email": "Dana@Example.com", "fields": {"first_name": "Dana"}})
    assert response.status_code == 200
    assert response.json["added"] is True and response.json["status"] == "a"
    member_id = response.json["member_id"]
    assert member_id > 666
    member = client.get(f"/100/members/{member_id}").json
    assert set(member) == {"account_id", "member_id", "email", "status", "member_since", "fields"}
    assert member["account_id"] == 100 and member["email"] == "Dana@Example.com"
    assert member["status"] == "active" and member["fields"] == {"first_name": "Dana"}
    assert DATE.match(member["member_since"])
    assert client.get("/100/members/email/dana@example.COM").json == member


def test_adding_an_existing_email_merges_fields(client):
    response = client.post("/100/members/add", json={"email": "ANN.SMITH@example.com", "fields": {"city": "Nashville"}})
    assert response.json == {"member_id": 444, "added": False, "status": "a"}
    assert client.get("/100/members/444").json["fields"] == {"first_name": "Ann", "last_name": "Smith",
                                                            "city": "Nashville"}


def test_add_refuses_bad_emails_and_fields(client):
    for body in ({}, {"email": "not-an-email"}, {"email": 5}, {"email": "a@b"}, {"email": "x@example.com", "fields": []}):
        response = client.post("/100/members/add", json=body)
        assert response.status_code == 400, body
        assert isinstance(response.json["error"], str)


def test_list_members_in_id_order_with_paging_and_count(client):
    assert [m["member_id"] for m in client.get("/100/members").json] == [444, 555]
    assert client.get("/100/members?count=true").json == 2
    assert [m["member_id"] for m in client.get("/100/members?start=1&end=2").json] == [555]


def test_unknown_member_and_email_are_404(client):
    for path, error in (("/100/members/999", "no member with id 999 in account 100"),
                        ("/100/members/666", "no member with id 666 in account 100"),  # account 101's member
                        ("/100/members/email/nobody@example.com",
                         "no member with email 'nobody@example.com' in account 100"),
                        ("/100/members/email/carol.white@example.org",  # account 101's member
                         "no member with email 'carol.white@example.org' in account 100")):
        response = client.get(path)
        assert (response.status_code, response.json) == (404, {"error": error}), path


def test_delete_member_takes_the_members_touchpoints_too(client):
    response = client.delete("/100/members/444")
    assert response.status_code == 200 and response.json is True
    assert client.get("/100/members/444").status_code == 404
    assert client.get("/100/touchpoints/members/444").status_code == 404
    assert client.get("/100/touchpoints/members/touchpoints/2").status_code == 404
    assert client.get("/100/touchpoints/members/touchpoints/3").status_code == 404
    assert client.get("/100/touchpoints/members/touchpoints/1").status_code == 200  # member 555's
    assert client.delete("/100/members/444").status_code == 404
    # the email is free again and gets a new id
    again = client.post("/100/members/add", json={"email": "ann.smith@example.com"}).json
    assert again["added"] is True and again["member_id"] != 444
