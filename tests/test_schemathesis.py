"""schemathesis against a live mock server, with the project's own OpenAPI document.

One test per documented operation (API and `/__admin`), each a bounded Hypothesis run
of positive and negative cases sent over real HTTP to a `MockServer` (waitress in a
background thread). Every answer must pass the checks `not_a_server_error`,
`status_code_conformance`, `content_type_conformance` and `response_schema_conformance`.

The state is reset before every case, so each case starts from the default fixture
(and a fault, clock or rate limit set by one case never leaks into the next): the
run is reproducible, which Hypothesis needs to shrink a failure.

This is part of the normal `pytest` run. schemathesis is imported unconditionally:
without it the module errors out instead of being skipped.

A second, smaller pass sends the API operations with no credentials and with wrong
ones: every answer must be a documented 401 with `WWW-Authenticate` (its boundary cases,
the coverage phase's, only with `-m slow`).

A normal run tries 10 examples per operation; `-m slow` (which CI runs too) tries 50, in a test that
exists only in such a run (schemathesis builds its items at collection, a second each in every worker).
Environment knobs for a deeper local run:
`EMMA_MOCK_FUZZ_EXAMPLES` (examples per operation in the normal run, default 10) and
`EMMA_MOCK_FUZZ_RANDOM=1` (a fresh random seed instead of the fixed derandomized one).
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from mockserver.control.openapi import document
from mockserver.testing import MockServer

import helpers

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = int(os.environ.get("EMMA_MOCK_FUZZ_EXAMPLES", "10"))
SLOW_EXAMPLES = 50  # `-m slow`
RANDOM = os.environ.get("EMMA_MOCK_FUZZ_RANDOM") == "1"
# Accounts of the default fixture: 100 is the one whose credentials are sent; 101 exists but is not ours (403).
OUR_ACCOUNT, OTHER_ACCOUNT = 100, 101

schema = schemathesis.openapi.from_dict(document())

CASES: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()


@pytest.fixture(scope="module")
def live(request):
    with MockServer(port=0) as server:
        yield server
    summary = (f"schemathesis {schemathesis.__version__}: {sum(CASES.values())} requests checked over "
               f"{len(CASES)} operation runs; statuses {dict(sorted(STATUSES.items()))}")
    # Into the normal pytest output (past output capture), so CI logs show what the run covered.
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\n{summary}", file=sys.stderr)


def _aim_at_our_account(case) -> None:
    """Most generated account ids are accounts that do not exist, and every such request stops at 403:
    point integer ids other than 101 at account 100, so the cases reach the handlers. Non-integer ids
    (negative cases) are kept: they must get a JSON 404."""
    account = (case.path_parameters or {}).get("account_id")
    if isinstance(account, int) and not isinstance(account, bool) and account != OTHER_ACCOUNT:
        case.path_parameters["account_id"] = OUR_ACCOUNT


def _conforms(case, live) -> None:
    live.reset()
    _aim_at_our_account(case)
    api = not case.path.startswith("/__admin")
    response = case.call_and_validate(base_url=live.url, auth=live.auth if api else None, checks=CHECKS,
                                      timeout=30)
    CASES[case.operation.label] += 1
    STATUSES[response.status_code] += 1


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_live_server_conforms_to_its_openapi_document(case, live):
    _conforms(case, live)


if helpers.SLOW_ASKED:  # only then: schemathesis builds each operation's test at collection, in every worker
    @pytest.mark.slow
    @schema.parametrize()
    @settings(max_examples=SLOW_EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
              suppress_health_check=list(HealthCheck))
    def test_the_live_server_conforms_to_its_openapi_document_at_length(case, live):
        _conforms(case, live)


def _api_schema(boundary_cases: bool):
    """The API's operations on a schema of their own, with or without the coverage phase's boundary cases."""
    api = schemathesis.openapi.from_dict(document()).exclude(path_regex=r"^/__admin")
    api.config.phases.coverage.enabled = boundary_cases
    return api


def _refused_without_valid_credentials(case, live) -> None:
    live.reset()
    _aim_at_our_account(case)
    for auth in (None, ("demo-public-key", "not-the-private-key")):
        response = case.call_and_validate(base_url=live.url, auth=auth, checks=CHECKS, timeout=30)
        CASES[f"{case.operation.label} (no valid credentials)"] += 1
        STATUSES[response.status_code] += 1
        if str(case.path_parameters.get("account_id", "")).isdigit():
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == ['Basic realm="Emma API"']  # lower-cased by schemathesis


# Without keys every API answer is the same 401 whatever the parameters, so the normal run sends a few
# generated cases per operation (the coverage phase's boundary cases were 900 of the 2,600 requests here);
# `-m slow` sends them all.
@_api_schema(boundary_cases=False).parametrize()
@settings(max_examples=max(3, MAX_EXAMPLES // 5), deadline=None, derandomize=not RANDOM, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_answers_without_valid_credentials_conform_too(case, live):
    """No credentials, and unknown ones: 401 with `WWW-Authenticate`, as documented, for every operation."""
    _refused_without_valid_credentials(case, live)


if helpers.SLOW_ASKED:
    @pytest.mark.slow
    @_api_schema(boundary_cases=True).parametrize()
    @settings(max_examples=max(3, MAX_EXAMPLES // 5), deadline=None, derandomize=not RANDOM, database=None,
              suppress_health_check=list(HealthCheck))
    def test_api_answers_without_valid_credentials_conform_too_on_boundary_cases(case, live):
        _refused_without_valid_credentials(case, live)


def test_the_fuzzed_document_is_the_served_one(live):
    served = live.session.get(f"{live.url}/__admin/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.json() == document()


def test_every_operation_is_fuzzed():
    operations = {f"{method.upper()} {path}" for path, item in document()["paths"].items() for method in item}
    assert len(operations) == len(list(schema.get_all_operations()))
