"""`/{account_id}/members...`: the subset of the members API that touchpoints need."""
from flask import Blueprint, Response

from ..core.errors import BadRequest
from ..wire import json_object, listing, now, page, reply, store

blueprint = Blueprint("members", __name__)

MAX_EMAIL = 254  # the longest address SMTP carries (RFC 5321)


def valid_email(email: str) -> bool:
    """`local@domain.tld`: one '@', no whitespace, a dot inside the domain; linear in the input."""
    if len(email) > MAX_EMAIL or email.count("@") != 1 or any(char.isspace() for char in email):
        return False
    local, _, domain = email.partition("@")
    return bool(local) and "." in domain[1:-1]


@blueprint.post("/<id:account_id>/members/add")
def add_member(account_id: int) -> Response:
    """Add a member, or merge fields into the member with that email."""
    body = json_object()
    email = body.get("email")
    if not isinstance(email, str) or not valid_email(email.strip()):
        raise BadRequest(f"'email' is required and must be a valid email address of at most {MAX_EMAIL} characters")
    fields = body.get("fields")
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        raise BadRequest("'fields' must be an object of member field values")
    member, added = store().add_member(account_id, email.strip(), fields, now=now())
    return reply({"member_id": member["member_id"], "added": added, "status": "a"})


@blueprint.get("/<id:account_id>/members")
def list_members(account_id: int) -> Response:
    """The account's members in id order."""
    return listing(page(), lambda: store().count_members(account_id),
                   lambda start, end: store().list_members(account_id, start, end))


@blueprint.get("/<id:account_id>/members/<id:member_id>")
def get_member(account_id: int, member_id: int) -> Response:
    """One member."""
    return reply(store().get_member(account_id, member_id))


@blueprint.get("/<id:account_id>/members/email/<path:email>")
def get_member_by_email(account_id: int, email: str) -> Response:
    """One member by email, compared case-insensitively."""
    return reply(store().get_member_by_email(account_id, email))


@blueprint.delete("/<id:account_id>/members/<id:member_id>")
def delete_member(account_id: int, member_id: int) -> Response:
    """Delete a member and the member's touchpoints."""
    store().delete_member(account_id, member_id)
    return reply(True)
