"""Fixture files: the documented format, checked whole, with errors that say where."""
import json

import pytest

from mockserver import Config, create_app
from mockserver.core.errors import InvalidFixture
from mockserver.core.fixtures import DEFAULT_FIXTURE, load_fixtures


def minimal():
    return {
        "accounts": [{"account_id": 1, "public_key": "pk", "private_key": "sk"}],
        "members": [{"account_id": 1, "member_id": 10, "email": "a@example.com"}],
        "touchpoint_types": [{"account_id": 1, "touchpoint_type_id": 20, "type_name": "t", "display_name": "T"}],
        "touchpoints": [{"account_id": 1, "touchpoint_id": 30, "member_id": 10, "touchpoint_type_id": 20}],
    }


def write(tmp_path, doc, name="fixture.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def test_the_default_fixture_holds_the_documented_sample_data():
    data = load_fixtures(DEFAULT_FIXTURE)
    accounts = {a["account_id"]: a for a in data.accounts}
    assert accounts[100]["public_key"] == "demo-public-key" and accounts[100]["private_key"] == "demo-private-key"
    assert accounts[101]["public_key"] == "other-public-key" and accounts[101]["private_key"] == "other-private-key"
    types = {t["touchpoint_type_id"]: t for t in data.touchpoint_types}
    assert (types[300]["type_name"], types[300]["display_name"], types[300]["created_at"]) == \
        ("visited_website", "Visited Website", "@D:2025-11-24T10:23:10")
    assert (types[200]["type_name"], types[200]["display_name"], types[200]["created_at"]) == \
        ("purchased_tickets", "Purchased Tickets", "@D:2025-11-25T10:32:44")
    members = {m["member_id"]: m for m in data.members}
    assert members[444]["account_id"] == 100 and members[555]["account_id"] == 100
    assert {t["member_id"] for t in data.touchpoints if t["account_id"] == 100} == {444, 555}
    assert any(t["account_id"] == 101 for t in data.touchpoints)


def test_optional_fields_get_defaults(tmp_path):
    data = load_fixtures(write(tmp_path, minimal()))
    touchpoint = data.touchpoints[0]
    assert touchpoint["touchpoint_monetary_value"] is None and touchpoint["attributes"] is None
    assert touchpoint["touchpoint_timestamp"] == touchpoint["inserted_at"]
    assert data.members[0]["fields"] == {} and data.members[0]["status"] == "active"


def test_iso_dates_are_normalised(tmp_path):
    doc = minimal()
    doc["touchpoint_types"][0]["created_at"] = "2025-01-01T01:00:00+01:00"
    assert load_fixtures(write(tmp_path, doc)).touchpoint_types[0]["created_at"] == "@D:2025-01-01T00:00:00"


@pytest.mark.parametrize("change,where,words", [
    (lambda d: d["touchpoints"][0].update(member_id=999), "touchpoints[0]", "member_id 999"),
    (lambda d: d["touchpoints"][0].update(touchpoint_type_id=999), "touchpoints[0]", "touchpoint_type_id 999"),
    (lambda d: d["members"].append({"account_id": 1, "member_id": 10, "email": "b@example.com"}),
     "members[1]", "duplicate member_id"),
    (lambda d: d["members"].append({"account_id": 1, "member_id": 11, "email": "A@example.com"}),
     "members[1]", "email"),
    (lambda d: d["touchpoint_types"].append({"account_id": 1, "touchpoint_type_id": 21, "type_name": "t",
                                             "display_name": "T2"}), "touchpoint_types[1]", "type_name"),
    (lambda d: d["members"][0].update(account_id=2), "members[0]", "account_id 2"),
    (lambda d: d["members"][0].update(member_id="10"), "members[0]", "member_id"),
    (lambda d: d["touchpoint_types"][0].update(created_at="2025-01-01"), "touchpoint_types[0]", "created_at"),
    (lambda d: d["touchpoints"][0].update(touchpoint_monetary_value="8"), "touchpoints[0]", "monetary"),
    (lambda d: d["touchpoints"][0].update(colour="red"), "touchpoints[0]", "colour"),
    (lambda d: d["accounts"].append({"account_id": 2, "public_key": "pk", "private_key": "x"}),
     "accounts[1]", "public_key"),
    (lambda d: d.update(widgets=[]), "fixture.json", "widgets"),
    (lambda d: d.update(members={}), "fixture.json", "members"),
])
def test_problems_name_the_file_collection_index_and_problem(tmp_path, change, where, words):
    doc = minimal()
    change(doc)
    path = write(tmp_path, doc)
    with pytest.raises(InvalidFixture) as error:
        load_fixtures(path)
    message = str(error.value)
    assert str(path) in message and where in message and words in message, message


def test_a_touchpoint_may_not_reference_another_accounts_member(tmp_path):
    doc = minimal()
    doc["accounts"].append({"account_id": 2, "public_key": "pk2", "private_key": "sk2"})
    doc["members"].append({"account_id": 2, "member_id": 11, "email": "b@example.com"})
    doc["touchpoints"][0]["member_id"] = 11
    with pytest.raises(InvalidFixture, match=r"touchpoints\[0\].*member_id 11 .*account 1"):
        load_fixtures(write(tmp_path, doc))


def test_unreadable_files(tmp_path):
    with pytest.raises(InvalidFixture, match="no such fixture"):
        load_fixtures(tmp_path / "missing.json")
    with pytest.raises(InvalidFixture, match="not valid JSON"):
        load_fixtures(write(tmp_path, "{oops"))
    with pytest.raises(InvalidFixture, match="must be a JSON object"):
        load_fixtures(write(tmp_path, "[]"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidFixture, match=r"no \*\.json"):
        load_fixtures(empty)


def test_a_folder_of_fixtures_is_merged_in_name_order(tmp_path):
    doc = minimal()
    write(tmp_path, {"accounts": doc["accounts"], "members": doc["members"]}, "1-people.json")
    write(tmp_path, {"touchpoint_types": doc["touchpoint_types"], "touchpoints": doc["touchpoints"]}, "2-events.json")
    data = load_fixtures(tmp_path)
    assert len(data.members) == 1 and len(data.touchpoints) == 1


def test_errors_in_a_folder_name_the_file(tmp_path):
    doc = minimal()
    write(tmp_path, {"accounts": doc["accounts"]}, "a.json")
    write(tmp_path, {"members": [{"account_id": 1, "member_id": 1, "email": 7}]}, "b.json")
    with pytest.raises(InvalidFixture, match=r"b\.json: members\[0\]: 'email'"):
        load_fixtures(tmp_path)


def test_id_sequences_start_above_the_fixture_ids(tmp_path):
    app = create_app(Config(fixtures=write(tmp_path, minimal()), auth=False))
    client = app.test_client()
    assert client.post("/1/touchpoints", json={"type_name": "n", "display_name": "N"}).json["touchpoint_type_id"] == 21
    assert client.post("/1/members/add", json={"email": "n@example.com"}).json["member_id"] == 11
    created = client.post("/1/touchpoints/members", json={"touchpoints": [{"member_id": 10, "type_name": "t"}]})
    assert created.json[0]["touchpoint_id"] == 31


def test_fixture_files_are_never_written(tmp_path):
    path = write(tmp_path, minimal())
    before = path.read_bytes()
    client = create_app(Config(fixtures=path, auth=False)).test_client()
    client.post("/1/touchpoints", json={"type_name": "n", "display_name": "N"})
    client.post("/__admin/reset")
    assert path.read_bytes() == before
