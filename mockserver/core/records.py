"""The stored record type: a dict that is never mutated once stored and remembers its JSON."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

SEPARATORS = (", ", ": ")
JSONObject = dict[str, Any]  # a record or document as parsed from JSON
Recorder = Callable[[str, dict[str, Any]], None]  # notes a control that changes answers (state/session.py)
_encode = json.JSONEncoder(separators=SEPARATORS).encode  # built once: json.dumps builds one per call



class Record(dict[str, Any]):
    """A member, touchpoint type or touchpoint as the API answers it.

    Never mutated once stored (an update stores a new Record), so its encoded
    JSON can be made on first use and reused by every later answer: a page of
    50 touchpoints is then a join of cached strings, not 50 encodings.
    """

    __slots__ = ("_json",)
    _json: str

    def to_json(self) -> str:
        try:
            return self._json
        except AttributeError:  # first use; two threads racing here compute the same text
            self._json = text = _encode(self)
            return text


def encode(payload: object) -> str:
    """JSON text of an answer; records and lists of records come from their cached text."""
    if type(payload) is Record:
        return payload.to_json()
    if type(payload) is list and payload and type(payload[0]) is Record:
        return "[" + ", ".join([record.to_json() for record in payload]) + "]"
    return _encode(payload)
