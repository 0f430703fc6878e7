"""`/{account_id}/touchpoints[/{touchpoint_type_id}]`: touchpoint types."""
from flask import Blueprint, Response

from ..wire import json_object, listing, now, page, reply, required_text, store

blueprint = Blueprint("touchpoint_types", __name__)


@blueprint.post("/<id:account_id>/touchpoints")
def create_touchpoint_type(account_id: int) -> Response:
    """Create a type; `type_name` must be new in the account."""
    body = json_object()
    return reply(store().create_touchpoint_type(
        account_id, required_text(body, "type_name"), required_text(body, "display_name"), now=now()))


@blueprint.get("/<id:account_id>/touchpoints")
def list_touchpoint_types(account_id: int) -> Response:
    """The account's types, oldest first."""
    return listing(page(), lambda: store().count_touchpoint_types(account_id),
                   lambda start, end: store().list_touchpoint_types(account_id, start, end))


@blueprint.get("/<id:account_id>/touchpoints/<id:type_id>")
def get_touchpoint_type(account_id: int, type_id: int) -> Response:
    """One type."""
    return reply(store().get_touchpoint_type(account_id, type_id))


@blueprint.put("/<id:account_id>/touchpoints/<id:type_id>")
def update_touchpoint_type(account_id: int, type_id: int) -> Response:
    """Rename a type; both fields are required, as on create."""
    body = json_object()
    return reply(store().update_touchpoint_type(
        account_id, type_id, required_text(body, "type_name"), required_text(body, "display_name")))


@blueprint.delete("/<id:account_id>/touchpoints/<id:type_id>")
def delete_touchpoint_type(account_id: int, type_id: int) -> Response:
    """Delete a type and all its touchpoints."""
    store().delete_touchpoint_type(account_id, type_id)
    return reply(True)
