"""An HTTP client for one account of the real API: keys kept out of every message, the rate
limit honoured (403 + Retry-After, waits capped), and failures sorted into "cannot run" (exit 2)
and "a request failed" (exit 1), each a one-line message naming the request and what to do.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests

from ..core.ids import parse_id

KEY_VARIABLES = ("EMMA_PUBLIC_KEY", "EMMA_PRIVATE_KEY")
MAX_WAIT_SECONDS = 60.0  # the longest a Retry-After is honoured for, per wait
MAX_RATE_LIMITED = 20  # refusals of one request before giving up
TIMEOUT_SECONDS = 30.0
MAX_ANSWER_BYTES = 32 * 2**20  # one answer (a page of 500 records is far less); past it the rest is not read
_CHUNK_BYTES = 64 * 1024


class CannotRun(Exception):
    """Nothing can be done against this URL (bad usage, refused credentials, nothing there): exit 2."""


class RequestFailed(Exception):
    """One request failed mid-way (a 5xx, an answer that is not JSON, a dropped connection): exit 1."""


@dataclass(frozen=True)
class Answer:
    """What the API answered: status, parsed JSON body (None when empty) and the headers that matter."""

    status: int
    body: Any
    retry_after: str | None = None


def account_url(url: str) -> tuple[str, int]:
    """`https://api.e2ma.net/1234` → (that URL without a trailing slash, 1234); CannotRun when it is not one."""
    parts = urlsplit(url.strip())
    if parts.username is not None or parts.password is not None:
        raise CannotRun("the URL holds credentials: give the keys with --public-key/--private-key "
                        "or EMMA_PUBLIC_KEY/EMMA_PRIVATE_KEY instead")
    account_id = parse_id(parts.path.rstrip("/").rsplit("/", 1)[-1])
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment \
            or account_id is None:
        raise CannotRun(f"{url[:200]!r} is not an account's API base URL: give one such as "
                        "https://api.e2ma.net/ACCOUNT_ID (http or https, ending in the account id)")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}", account_id


def keys_from(public_key: str | None, private_key: str | None) -> tuple[str, str]:
    """The keys from the options, else from EMMA_PUBLIC_KEY / EMMA_PRIVATE_KEY; CannotRun when one is missing."""
    public = public_key or os.environ.get(KEY_VARIABLES[0], "")
    private = private_key or os.environ.get(KEY_VARIABLES[1], "")
    if not public or not private:
        raise CannotRun("no API keys: set EMMA_PUBLIC_KEY and EMMA_PRIVATE_KEY "
                        "(or pass --public-key and --private-key)")
    return public, private


def _retry_after_seconds(value: str | None) -> float:
    """Seconds a Retry-After asks for (a number or an HTTP date); 1 when absent or unreadable."""
    if not value:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return 1.0


def _body_bytes(response: requests.Response) -> bytes | None:
    """The answer's body (decompressed), or None when it passes MAX_ANSWER_BYTES (then closed unread)."""
    chunks, size = [], 0
    with response:
        for chunk in response.iter_content(_CHUNK_BYTES):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                return None
            chunks.append(chunk)
    return b"".join(chunks)


class ApiClient:
    """GET/POST/PUT/DELETE on one account's API base; the keys never leave this object's session."""

    def __init__(self, url: str, keys: tuple[str, str], *, on_wait: Callable[[float], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.base, self.account_id = account_url(url)
        self._keys = keys
        self._session = requests.Session()
        self._session.auth = keys
        self._session.headers["User-Agent"] = "emma-mock-contract"
        self._on_wait = on_wait
        self._sleep = sleep
        self.answered = False  # whether anything at the URL has answered yet (failures before it: CannotRun)

    def redact(self, text: str) -> str:
        """The text with the keys (and their URL-encoded forms) replaced by ***."""
        for key in self._keys:
            for form in {key, quote(key, safe="")}:
                if form:
                    text = text.replace(form, "***")
        return text

    def named(self, method: str, path: str, params: dict[str, Any] | None = None) -> str:
        """The request as messages name it, keys removed: `GET https://.../1234/members?start=0`."""
        query = f"?{urlencode(params)}" if params else ""
        return self.redact(f"{method} {self.base}{path}{query}")

    def request(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None,
                auth: tuple[str, str] | None = None, any_answer: bool = False) -> Answer:
        """One call under the account's base (`path` starts with `/`), waiting out rate limits.

        4xx answers are returned (callers compare them); refused keys, a 404 before anything was
        found, a 5xx or a body that is not JSON raise with a one-line message, unless `any_answer`
        (verify compares those too: then only a connection that gives no answer raises). `auth`
        replaces the account's keys for this call (wrong ones, to see them refused).
        """
        name = self.named(method, path, params)
        for _ in range(MAX_RATE_LIMITED):
            answer = self._send(method, path, params, body, auth, name)
            if answer.status not in (403, 429) or not self._rate_limited(answer):
                return answer if any_answer else self._judged(answer, name, auth is not None)
            wait = min(_retry_after_seconds(answer.retry_after), MAX_WAIT_SECONDS)
            if self._on_wait is not None:
                self._on_wait(wait)
            self._sleep(wait)
        raise RequestFailed(f"{name}: still rate limited after {MAX_RATE_LIMITED} waits; try again later "
                            "or with fewer members (--members)")

    @staticmethod
    def _rate_limited(answer: Answer) -> bool:
        error = answer.body.get("error") if isinstance(answer.body, dict) else None
        return answer.retry_after is not None or (isinstance(error, str) and "rate limit" in error.lower())

    def _send(self, method: str, path: str, params: dict[str, Any] | None, body: Any,
              auth: tuple[str, str] | None, name: str) -> Answer:
        try:
            response = self._session.request(
                method, self.base + path, params=params, timeout=TIMEOUT_SECONDS, allow_redirects=False,
                data=None if body is None else json.dumps(body),
                headers=None if body is None else {"Content-Type": "application/json"},
                auth=auth or self._keys, stream=True)
            raw = _body_bytes(response)
        except requests.RequestException as exc:
            reason = type(exc).__name__  # never str(exc): it may quote the URL, and with it anything in it
            if not self.answered:
                raise CannotRun(f"{name}: nothing answers at {self.redact(self.base)} ({reason}); "
                                "check the URL and the network") from None
            raise RequestFailed(f"{name}: no answer ({reason}); try again") from None
        if raw is None:
            raise (RequestFailed if self.answered else CannotRun)(
                f"{name}: answered {response.status_code} with a body over {MAX_ANSWER_BYTES // 2**20} MiB, "
                "far more than a page of the API holds; is the URL an Emma API base?")
        try:
            parsed = json.loads(raw) if raw.strip() else None
        except (ValueError, RecursionError):  # (RecursionError: JSON nested deeper than Python's parser goes)
            parsed = NOT_JSON
        self.answered = self.answered or parsed is not NOT_JSON
        return Answer(response.status_code, parsed, response.headers.get("Retry-After"))

    def _judged(self, answer: Answer, name: str, own_auth: bool) -> Answer:
        if answer.body is NOT_JSON:
            problem = (f"{name}: answered {answer.status} with a body that is not JSON; "
                       "is the URL an Emma API base such as https://api.e2ma.net/ACCOUNT_ID?")
            raise (RequestFailed if self.answered else CannotRun)(problem)
        if answer.status in (401, 403) and not own_auth:
            raise CannotRun(f"{name}: the credentials were refused ({answer.status}); check EMMA_PUBLIC_KEY and "
                            "EMMA_PRIVATE_KEY (or --public-key/--private-key), and that they are this account's")
        if answer.status == 404 and not self._found_once:
            raise CannotRun(f"{name}: answered 404: no account at this URL; check the account id at its end")
        if answer.status >= 500:
            raise RequestFailed(f"{name}: the API answered {answer.status} (a server error); try again later")
        self._found_once = True
        return answer

    _found_once = False


class _NotJson:
    def __repr__(self) -> str:
        return "a body that is not JSON"


NOT_JSON: Any = _NotJson()  # Answer.body of an answer whose body does not parse
