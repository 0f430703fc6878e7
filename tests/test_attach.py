"""Attaching to a mock that runs elsewhere (the container path): `MockServer.connect` and `--emma-mock-url`."""

import pytest
import requests

from mockserver import MockServer

from helpers import CLIServer, run_pytest


@pytest.fixture(scope="module")
def running():
    """A mock in another process, as a container would be, with an admin token."""
    server = CLIServer("--admin-token", "s3cret", "--quiet")
    yield server
    server.stop()


def test_connect_gives_the_same_helpers_over_http(running):
    with MockServer.connect(running.url, admin_token="s3cret") as mock:
        mock.reset()
        assert mock.url == running.url and mock.account_id == 100
        assert mock.base_url == f"{running.url}/100"
        assert mock.auth == ("demo-public-key", "demo-private-key")
        created = requests.post(f"{mock.base_url}/touchpoints", json={"type_name": "x", "display_name": "X"},
                                auth=mock.auth, timeout=10)
        assert created.status_code == 200
        assert [e["status"] for e in mock.requests(method="POST")] == [200]
        fault = mock.add_fault(path="/100/touchpoints", status=503, times=1)
        assert mock.faults()[0]["id"] == fault["id"]
        assert mock.session.get(f"{mock.base_url}/touchpoints").status_code == 503
        assert mock.freeze_clock("2030-01-01T00:00:00Z")["now"] == "@D:2030-01-01T00:00:00"
        assert mock.set_rate_limit(5, 1) == {"requests": 5, "per_seconds": 1}
        mock.reset()
        names = [t["type_name"] for t in mock.session.get(f"{mock.base_url}/touchpoints").json()]
        assert names == ["visited_website", "purchased_tickets"]
        assert mock.faults() == [] and mock.requests(method="POST") == []


def test_connect_follows_a_loaded_state(running):
    with MockServer.connect(running.url, admin_token="s3cret") as mock:
        mock.load({"accounts": [{"account_id": 7, "public_key": "p7", "private_key": "k7"}]})
        assert mock.account_id == 7 and mock.auth == ("p7", "k7") and mock.base_url.endswith("/7")
        assert mock.session.get(f"{mock.base_url}/touchpoints").json() == []
        mock.reset()
        assert mock.account_id == 100


def test_connect_never_stops_the_server(running):
    with MockServer.connect(running.url, admin_token="s3cret"):
        pass
    assert requests.get(f"{running.url}/__admin/health", timeout=10).json() == {"status": "ok"}


def test_a_wrong_admin_token_is_a_clear_failure(running):
    with pytest.raises(AssertionError, match="401"):
        MockServer.connect(running.url, admin_token="wrong")


USER_TESTS = """
    import requests

    def test_create(emma_mock):
        r = requests.post(f"{emma_mock.base_url}/touchpoints", json={"type_name": "t", "display_name": "T"},
                          auth=emma_mock.auth)
        assert r.status_code == 200

    def test_fresh_state_and_same_server(emma_mock):
        names = [t["type_name"] for t in emma_mock.session.get(f"{emma_mock.base_url}/touchpoints").json()]
        assert names == ["visited_website", "purchased_tickets"]
        with open("seen_url.txt", "w") as seen:
            seen.write(emma_mock.url)
"""


@pytest.mark.parametrize("how", ["option", "env", "ini"])
def test_the_plugin_attaches_to_a_running_server(running, tmp_path, how):
    args, env = [], {"EMMA_MOCK_ADMIN_TOKEN": "s3cret"}
    if how == "option":
        args += [f"--emma-mock-url={running.url}"]
    elif how == "env":
        env["EMMA_MOCK_URL"] = running.url
    else:
        (tmp_path / "pytest.ini").write_text(f"[pytest]\nemma_mock_url = {running.url}\n")
    result = run_pytest(tmp_path, USER_TESTS, *args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    assert (tmp_path / "seen_url.txt").read_text() == running.url  # the running server, not a new one


def test_a_url_with_a_path_is_refused_with_what_to_give_instead(running):
    with pytest.raises(ValueError, match="root URL"):
        MockServer.connect(running.url + "/100", admin_token="s3cret")


def test_nothing_at_the_url_is_one_clear_error():
    with pytest.raises(ConnectionError, match=r"no emma-mock answers at http://127\.0\.0\.1:9"):
        MockServer.connect("http://127.0.0.1:9")


def test_an_unreachable_url_stops_the_run_with_one_message_before_any_test(tmp_path):
    result = run_pytest(tmp_path, USER_TESTS, "--emma-mock-url=http://127.0.0.1:9", "-p", "no:xdist")
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert output.count("no emma-mock answers at http://127.0.0.1:9") == 1, output
    assert "passed" not in output and "error" not in output.replace("ERROR: --emma-mock-url", "")
    assert not (tmp_path / "seen_url.txt").exists()
