"""Injected faults: answer API requests with an error, a delay, or a dropped connection.

What a fault does to a request is decided here (`Fault.effect`); serving/front.py carries it out.

A fault matches by method and a glob on the path. It fires always, or for the
next `times` matches, each time with an optional `probability` drawn from its
own random generator (seeded with `seed`, so a chaotic run can be replayed).
A fault given no seed draws one when it is added (`draw_seed`, kept out of its
JSON): the session export replays it with that seed, so its draws repeat too.
"""
from __future__ import annotations

import itertools
import json
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from ..core.checks import is_int, is_number
from ..core.errors import BadRequest, error_body, shown
from ..core.globs import MAX_GLOB, glob_matches
from ..core.records import Recorder, encode

MAX_DELAY_MS = 600_000
MAX_FAULTS = 100  # active at once; every API request is matched against them
MAX_FAULT_BODY_BYTES = 64 * 1024  # a fault's `body`, as JSON with non-ASCII escaped
MAX_TEXT_CHARS = 1024  # `method` and a string `seed`
_SEEDS = random.SystemRandom()  # the seeds of faults given none
_CANNOT_DROP = ("this server cannot drop connections; serve the mock with emma-mock or MockServer "
                "to use action \"drop\"")
_FIELDS = {"method", "path", "status", "body", "delay_ms", "action", "times", "probability", "seed"}


@dataclass(frozen=True)
class Effect:
    """What a fault does to the request it fired on: wait `delay_seconds`, then drop the connection,
    answer `answer` (status, JSON body) instead of the API, or neither (the request goes on)."""

    delay_seconds: float = 0.0
    drop: bool = False
    answer: tuple[int, bytes] | None = None


@dataclass
class Fault:
    id: int
    method: str | None = None
    path: str | None = None
    status: int | None = None
    body: Any = None
    delay_ms: float | list[float] | None = None
    action: str | None = None
    times: int | None = None
    probability: float | None = None
    seed: int | str | None = None
    matched: int = 0
    draw_seed: int | str = 0  # what its random generator was seeded with: `seed`, or one drawn when none was given
    _random: random.Random = field(default_factory=random.Random, repr=False)

    @property
    def drops(self) -> bool:
        return self.action == "drop"

    @property
    def answers(self) -> bool:
        """Whether it answers instead of the API (rather than only delaying the request)."""
        return self.status is not None or self.action is not None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method and not (self.method == "GET" and method == "HEAD"):
            return False  # (HEAD is served by the GET route, so a GET fault answers it too)
        return not self.path or glob_matches(path, self.path)

    def delay_seconds(self) -> float:
        if self.delay_ms is None:
            return 0.0
        if isinstance(self.delay_ms, list):
            return self._random.uniform(*self.delay_ms) / 1000
        return self.delay_ms / 1000

    def effect(self, can_drop: bool) -> Effect:
        """What it does to the request it fired on; where the server cannot drop (`can_drop` False), a drop is a 502."""
        delay = self.delay_seconds()
        if self.drops:
            return Effect(delay, drop=True) if can_drop else Effect(delay, answer=(502, error_body(_CANNOT_DROP)))
        if self.answers:
            return Effect(delay, answer=(self.response_status(), self.response_json()))
        return Effect(delay)

    def response_status(self) -> int:
        return self.status if self.status is not None else 500

    def response_json(self) -> bytes:
        """What it answers: its `body` as JSON, or an Emma-shaped error naming the fault."""
        if self.body is not None:
            return encode(self.body).encode()
        return error_body(f"Injected fault {self.id}: HTTP {self.response_status()}")

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "method": self.method, "path": self.path, "status": self.status,
                "body": self.body, "delay_ms": self.delay_ms, "action": self.action,
                "times": self.times, "probability": self.probability, "seed": self.seed,
                "matched": self.matched, "active": self.active}

    def replay_fields(self) -> dict[str, Any]:
        """The fields that add this fault again as it was added, with the seed its draws came from."""
        fields = {name: value for name, value in self.to_json().items()
                  if name in _FIELDS and value is not None}
        if self.probability is not None or isinstance(self.delay_ms, list):  # (only these draw)
            fields["seed"] = self.draw_seed
        return fields

    @property
    def active(self) -> bool:
        """False once it has fired its `times`: it stays listed (a test can see it fired) but never fires."""
        return self.times != 0


def parse_fault(spec: Any, fault_id: int) -> Fault:
    """A Fault from a `POST /__admin/faults` body; BadRequest naming the field that is wrong."""
    if not isinstance(spec, dict):
        raise BadRequest("a fault must be a JSON object")
    unknown = sorted(set(spec) - _FIELDS)
    if unknown:
        raise BadRequest(f"unknown fault field {shown(unknown[0])} (allowed: {', '.join(sorted(_FIELDS))})")
    method, path, status = spec.get("method"), spec.get("path"), spec.get("status")
    delay, action, times = spec.get("delay_ms"), spec.get("action"), spec.get("times")
    probability, seed = spec.get("probability"), spec.get("seed")
    if method is not None and (not isinstance(method, str) or not method.strip()
                               or len(method) > MAX_TEXT_CHARS):
        raise BadRequest("'method' must be an HTTP method such as \"POST\"")
    if path is not None and (not isinstance(path, str) or not 1 <= len(path) <= MAX_GLOB):
        raise BadRequest(f"'path' must be a path glob of 1 to {MAX_GLOB} characters, "
                         "such as \"/100/touchpoints*\" or \"*\"")
    if "body" in spec and len(json.dumps(spec["body"])) > MAX_FAULT_BODY_BYTES:
        raise BadRequest(f"'body' is over {MAX_FAULT_BODY_BYTES // 1024} KiB as JSON; send a smaller one")
    if status is not None and (not is_int(status)
                               or not 200 <= status <= 599):
        raise BadRequest("'status' must be an HTTP status code from 200 to 599")
    if delay is not None:
        if is_number(delay):
            delay = [delay]
        if (not isinstance(delay, list) or len(delay) not in (1, 2) or not all(map(is_number, delay))
                or not all(0 <= d <= MAX_DELAY_MS for d in delay) or delay != sorted(delay)):
            raise BadRequest(f"'delay_ms' must be a number or [min, max] from 0 to {MAX_DELAY_MS}")
        delay = delay[0] if len(delay) == 1 else delay
    if action is not None and action not in ("respond", "drop"):
        raise BadRequest("'action' must be \"respond\" or \"drop\"")
    if times is not None and (not is_int(times) or times < 1):
        raise BadRequest("'times' must be a positive integer (leave it out for always)")
    if probability is not None and (not is_number(probability) or not 0 <= probability <= 1):
        raise BadRequest("'probability' must be a number from 0 to 1")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, str))
                             or (isinstance(seed, str) and len(seed) > MAX_TEXT_CHARS)):
        raise BadRequest(f"'seed' must be an integer or a string of at most {MAX_TEXT_CHARS} characters")
    if status is None and delay is None and action is None:
        raise BadRequest("a fault needs at least one of 'status', 'delay_ms' or 'action'")
    draw_seed = seed if seed is not None else _SEEDS.getrandbits(63)
    return Fault(id=fault_id, method=method.upper() if method else None, path=path, status=status,
                 body=spec.get("body"), delay_ms=delay, action=action, times=times,
                 probability=probability, seed=seed, draw_seed=draw_seed, _random=random.Random(draw_seed))


class Faults:
    """The faults, in the order they were added; the first active one that fires wins.

    A fault that used up its `times` stays in the list, inactive, until it is
    removed, cleared or reset, or until room is needed for a new one.
    """

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.version = 0  # moves whenever the list or a fault's counters change
        self.recorder: Recorder | None = None  # told of each add, removal and clear

    def add(self, spec: Any) -> Fault:
        with self._lock:
            if len(self._faults) >= MAX_FAULTS:  # used-up faults make room first
                self._faults = [fault for fault in self._faults if fault.active]
            if len(self._faults) >= MAX_FAULTS:
                raise BadRequest(f"there are already {MAX_FAULTS} faults, the most this server keeps; "
                                 "remove some (DELETE /__admin/faults/{id}, or DELETE /__admin/faults)")
            fault = parse_fault(spec, 0)
            fault.id = next(self._ids)  # only a fault that was taken uses up an id
            self._faults = [*self._faults, fault]
            self.version += 1
            if self.recorder is not None:
                self.recorder("add_fault", fault.replay_fields())
            return fault

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.to_json() for fault in self._faults]

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            self.version += 1
            removed = len(self._faults) < before
            if removed and self.recorder is not None:
                self.recorder("remove_fault", {"fault_id": fault_id})
            return removed

    def clear(self) -> None:
        with self._lock:
            self._faults = []
            self.version += 1
            if self.recorder is not None:
                self.recorder("clear_faults", {})

    def reset(self) -> None:
        """As new: no faults, and ids start at 1 again (a reset restores every id sequence)."""
        with self._lock:
            self._faults = []
            self._ids = itertools.count(1)
            self.version += 1

    def fire(self, method: str, path: str) -> Fault | None:
        """The fault this request triggers, if any, counting it against its `times`."""
        faults = self._faults  # replaced, never changed in place, under the lock: a consistent list
        if not faults:
            return None
        # Matching paths runs outside the lock, so requests do not queue behind each other's globs;
        # counting, under it, skips a fault removed or used up meanwhile.
        candidates = [fault for fault in faults if fault.active and fault.matches(method, path)]
        if not candidates:
            return None
        with self._lock:
            for fault in candidates:
                if not fault.active or not any(kept is fault for kept in self._faults):
                    continue
                if fault.probability is not None and fault._random.random() >= fault.probability:
                    continue
                fault.matched += 1
                self.version += 1
                if fault.times is not None:
                    fault.times -= 1
                return fault
            return None
