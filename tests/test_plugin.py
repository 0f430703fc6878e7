"""The pytest plugin loads by entry point: a user's project needs no conftest."""
import json

import helpers


def run_pytest(tmp_path, source, *args, entry_point=False):
    return helpers.run_pytest(tmp_path, source, *args, env={"PORTS_FILE": str(tmp_path / "ports.txt")},
                              entry_point=entry_point)


def test_a_users_test_file_gets_the_fixtures_with_no_conftest(tmp_path):
    """Plugins load by entry point, emma-mock's among them (this project's test-only ones are switched off, as a
    user's project lacks them: helpers.run_pytest); the other tests name emma-mock's with -p."""
    result = run_pytest(tmp_path, """
        import requests

        def test_one(emma_mock):
            r = requests.post(f"{emma_mock.base_url}/touchpoints", json={"type_name": "a", "display_name": "A"},
                              auth=emma_mock.auth)
            assert r.status_code == 200

        def test_two_sees_a_fresh_state(emma_mock):
            names = [t["type_name"] for t in emma_mock.session.get(f"{emma_mock.base_url}/touchpoints").json()]
            assert names == ["visited_website", "purchased_tickets"]

        def test_session_server_is_shared(emma_mock_server, emma_mock):
            assert emma_mock_server is emma_mock
    """, entry_point=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_the_fixture_file_can_be_chosen_by_option_and_ini(tmp_path):
    fixture = {"accounts": [{"account_id": 9, "public_key": "nine", "private_key": "secret"}]}
    (tmp_path / "mine.json").write_text(json.dumps(fixture))
    source = """
        def test_account(emma_mock):
            assert emma_mock.account_id == 9 and emma_mock.auth == ("nine", "secret")
    """
    result = run_pytest(tmp_path, source, f"--emma-mock-fixtures={tmp_path / 'mine.json'}")
    assert result.returncode == 0, result.stdout + result.stderr
    (tmp_path / "pytest.ini").write_text("[pytest]\nemma_mock_fixtures = mine.json\n")
    result = run_pytest(tmp_path, source)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_failing_user_test_fails(tmp_path):
    result = run_pytest(tmp_path, """
        def test_wrong(emma_mock):
            assert emma_mock.session.get(f"{emma_mock.base_url}/touchpoints/999").status_code == 200
    """)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout and "assert 404 == 200" in result.stdout, result.stdout


def test_each_xdist_worker_gets_its_own_server(tmp_path):
    result = run_pytest(tmp_path, """
        import os
        import pytest

        @pytest.mark.parametrize("n", range(4))
        def test_isolated(emma_mock, n):
            url = emma_mock.base_url + "/touchpoints"
            assert emma_mock.session.post(url, json={"type_name": "same", "display_name": "S"}).status_code == 200
            with open(os.environ["PORTS_FILE"], "a") as ports:
                ports.write(os.environ["PYTEST_XDIST_WORKER"] + " " + emma_mock.url + "\\n")
    """, "-n", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
    rows = {tuple(line.split()) for line in (tmp_path / "ports.txt").read_text().splitlines()}
    workers = {worker for worker, _ in rows}
    urls = {url for _, url in rows}
    assert workers == {"gw0", "gw1"} and len(urls) == 2
