"""emma-mock from pytest as a user writes it (the README's own examples are run by tests/test_readme.py).

No conftest is needed: installing emma-mock registers the `emma_mock` fixture.
"""
import requests


def test_my_integration_records_a_purchase(emma_mock):
    # emma_mock is a real server on a free port, reset to the fixtures for this test.
    client = requests.Session()
    client.auth = emma_mock.auth                    # ("demo-public-key", "demo-private-key")
    base = emma_mock.base_url                       # "http://127.0.0.1:<port>/100"

    response = client.post(f"{base}/touchpoints/members", json={"touchpoints": [
        {"email": "ann.smith@example.com", "type_name": "purchased_tickets", "touchpoint_monetary_value": 42.0},
    ]})

    assert response.status_code == 200
    assert response.json()[0]["member_id"] == 444
    # the journal shows exactly what your code sent
    (sent,) = emma_mock.requests(method="POST", path="/100/touchpoints/members")
    assert sent["body"]["touchpoints"][0]["touchpoint_monetary_value"] == 42.0


def test_state_does_not_leak_between_tests(emma_mock):
    # the purchase recorded by the test above is gone: each test starts from the fixtures
    touchpoints = emma_mock.session.get(f"{emma_mock.base_url}/touchpoints/members/444").json()
    assert [t["touchpoint_id"] for t in touchpoints] == [2, 3]
    assert [e["path"] for e in emma_mock.requests()] == ["/100/touchpoints/members/444"]  # only this test's


def test_my_client_retries_when_emma_is_down(emma_mock):
    # the next POST fails once with a 503, then the API answers as usual
    emma_mock.add_fault(method="POST", path="/100/touchpoints*", status=503, times=1)
    url = f"{emma_mock.base_url}/touchpoints"
    body = {"type_name": "retried", "display_name": "Retried"}
    assert emma_mock.session.post(url, json=body).status_code == 503
    assert emma_mock.session.post(url, json=body).status_code == 200


def test_timestamps_come_from_a_frozen_clock(emma_mock):
    emma_mock.freeze_clock("2030-01-01T09:00:00Z")
    created = emma_mock.session.post(f"{emma_mock.base_url}/touchpoints",
                                     json={"type_name": "frozen", "display_name": "Frozen"}).json()
    assert created["created_at"] == "@D:2030-01-01T09:00:00"
    emma_mock.advance_clock(60)
    assert emma_mock.session.post(f"{emma_mock.base_url}/members/add", json={"email": "later@example.com"}).ok


def test_my_client_backs_off_on_the_rate_limit(emma_mock):
    emma_mock.set_rate_limit(requests=1, per_seconds=60)
    assert emma_mock.session.get(f"{emma_mock.base_url}/touchpoints").status_code == 200
    refused = emma_mock.session.get(f"{emma_mock.base_url}/touchpoints")
    assert refused.status_code == 403 and refused.json() == {"error": "Rate Limit Exceeded"}
    assert "Retry-After" in refused.headers


def test_start_from_your_own_data(emma_mock):
    emma_mock.load({"accounts": [{"account_id": 7, "public_key": "pk", "private_key": "sk"}],
                    "members": [{"account_id": 7, "member_id": 1, "email": "only@example.com"}]})
    assert requests.get(f"{emma_mock.url}/7/members", auth=("pk", "sk")).json()[0]["email"] == "only@example.com"
