"""`/{account_id}/touchpoints/members...`: touchpoints of members."""
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response

from ..core.checks import fits_a_float, is_int, is_number
from ..core.dates import DateError, parse_date
from ..core.errors import BadRequest
from ..core.limits import BATCH_LIMIT
from ..core.store import TouchpointInput
from ..wire import json_object, listing, now, page, reply, store

blueprint = Blueprint("touchpoints", __name__)



def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _object(value: Any) -> bool:
    return isinstance(value, dict)


_ABSENT = object()
# (name, check, what it must be, null accepted). The value and the timestamp are checked first, then
# the rest in this order: with several bad fields, the error names the first.
_VALUE = ("touchpoint_monetary_value", is_number, "a number", True)
_TYPED_FIELDS = (
    ("member_id", is_int, "an integer", False),
    ("email", _text, "a non-empty string", False),
    ("touchpoint_type_id", is_int, "an integer", False),
    ("type_name", _text, "a non-empty string", False),
    ("mailing_id", is_int, "an integer", True),
    ("attributes", _object, "an object", True),
)


def _typed(index: int, raw: dict[str, Any], name: str, ok: Callable[[Any], bool], kind: str, nullable: bool) -> Any:
    """The field's value (None when absent, or null where null is accepted); a BadRequest when mistyped."""
    value = raw.get(name, _ABSENT)
    if value is _ABSENT or (value is None and nullable):
        return None
    if not ok(value):
        raise BadRequest(f"touchpoints[{index}].{name} must be {kind}{' or null' if nullable else ''}")
    return value


def _item(index: int, raw: Any) -> TouchpointInput:
    """Check one item's JSON types; references are resolved by the store."""
    if not isinstance(raw, dict):
        raise BadRequest(f"touchpoints[{index}] must be a JSON object")
    value = _typed(index, raw, *_VALUE)
    if value is not None:
        if not fits_a_float(value):
            raise BadRequest(f"touchpoints[{index}].touchpoint_monetary_value is too large")
        value = float(value)
    timestamp = None  # absent: now ("default now"; null is not a date)
    if "touchpoint_timestamp" in raw:
        try:
            timestamp = parse_date(raw["touchpoint_timestamp"])
        except DateError as exc:
            raise BadRequest(f"touchpoints[{index}].touchpoint_timestamp: {exc}") from None
    fields = {field[0]: _typed(index, raw, *field) for field in _TYPED_FIELDS}
    return TouchpointInput(**fields, touchpoint_monetary_value=value, touchpoint_timestamp=timestamp)


@blueprint.post("/<id:account_id>/touchpoints/members")
def create_touchpoints(account_id: int) -> Response:
    """Create 1 to 10 touchpoints, all or none."""
    items = json_object().get("touchpoints")
    if not isinstance(items, list) or not 1 <= len(items) <= BATCH_LIMIT:
        raise BadRequest(f"'touchpoints' is required: a list of 1 to {BATCH_LIMIT} touchpoint objects")
    return reply(store().create_touchpoints(account_id, [_item(i, raw) for i, raw in enumerate(items)], now=now()))


@blueprint.get("/<id:account_id>/touchpoints/members/<id:member_id>")
def list_member_touchpoints(account_id: int, member_id: int) -> Response:
    """A member's touchpoints by timestamp."""
    return listing(page(), lambda: store().count_member_touchpoints(account_id, member_id),
                   lambda start, end: store().member_touchpoints(account_id, member_id, start, end))


@blueprint.get("/<id:account_id>/touchpoints/members/touchpoints/<id:touchpoint_id>")
def get_touchpoint(account_id: int, touchpoint_id: int) -> Response:
    """One touchpoint."""
    return reply(store().get_touchpoint(account_id, touchpoint_id))


@blueprint.delete("/<id:account_id>/touchpoints/members/touchpoints/<id:touchpoint_id>")
def delete_touchpoint(account_id: int, touchpoint_id: int) -> Response:
    """Delete one touchpoint."""
    store().delete_touchpoint(account_id, touchpoint_id)
    return reply(True)
