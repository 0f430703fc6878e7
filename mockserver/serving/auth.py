"""Who may call an account's paths: HTTP Basic against the account's keys, then the rate limit.

It runs in the WSGI front (front.py): whose keys a request carries is noted on
arrival (for the journal, and again after a delay fault, on the state then); the
decision comes after faults and before Flask routes the request, so a client
without keys learns nothing about which paths or ids exist (401/403 come before
404/405/400).
"""
from __future__ import annotations

import base64
import binascii

from ..core.errors import Forbidden, NotFound, RateLimited, Unauthorized
from ..core.store import Store
from ..state.journal import NO_KEYS, WRONG_KEYS
from ..state.rate_limit import RateLimiter

_MISSING = ("authentication required: HTTP Basic with your public API key as the user name "
            "and your private key as the password")


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(user, password) of an `Authorization: Basic ...` header, or None when there is none to read."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def identify(store: Store, header: str | None) -> int | str:
    """Whose keys an `Authorization` header carries: an account id, WRONG_KEYS or NO_KEYS."""
    credentials = basic_credentials(header)
    if credentials is None:
        return NO_KEYS
    owner = store.authenticate(*credentials)
    return WRONG_KEYS if owner is None else owner


def admit(store: Store, limiter: RateLimiter, auth_on: bool, account_id: int, who: int | str, now: float) -> None:
    """Raise the API's error when a request carrying `who`'s keys (see `identify`) may not proceed;
    count it against the rate limit at `now` (the request's clock reading, in seconds)."""
    if auth_on:
        if who == NO_KEYS:
            raise Unauthorized(_MISSING)
        if who == WRONG_KEYS:
            raise Unauthorized("unknown API keys: check the public and private key")
        if who != account_id:
            raise Forbidden(f"these API keys belong to account {who}, not to account {account_id}")
    elif not store.has_account(account_id):
        raise NotFound(f"no account {account_id}")
    wait = limiter.admit(account_id, now)
    if wait is not None:
        raise RateLimited(RateLimiter.retry_after(wait))
