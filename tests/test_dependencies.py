"""The parts of waitress and Flask that emma-mock builds on beyond their documented API.

serving/server.py subclasses waitress's channel, parser and tasks, and serving/routing.py
answers Flask's `RequestContext.match_request`. pyproject.toml caps both version ranges;
when a release inside them (or a raised cap) moves one of these, this file says which,
before the behaviour tests fail in less obvious ways.
"""
from __future__ import annotations

import inspect
from importlib.metadata import requires, version

import flask.ctx
import pytest
from packaging.requirements import Requirement
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask

# (object, attribute) pairs the server reads, writes or overrides
WAITRESS_PARTS = [
    (HTTPChannel, "parser_class"), (HTTPChannel, "task_class"), (HTTPChannel, "error_task_class"),
    (HTTPChannel, "received"), (HTTPChannel, "readable"), (HTTPChannel, "handle_close"), (HTTPChannel, "request"),
    (HTTPChannel, "close_when_flushed"), (HTTPChannel, "total_outbufs_len"), (HTTPChannel, "current_outbuf_count"),
    (HTTPRequestParser, "received"), (HTTPRequestParser, "parse_header"), (HTTPRequestParser, "close"),
    (HTTPRequestParser, "headers_finished"), (HTTPRequestParser, "body_bytes_received"),
    (HTTPRequestParser, "content_length"), (HTTPRequestParser, "chunked"), (HTTPRequestParser, "completed"),
    (HTTPRequestParser, "empty"), (HTTPRequestParser, "expect_continue"), (HTTPRequestParser, "error"),
    (BaseWSGIServer, "channel_class"), (BaseWSGIServer, "handle_accept"),
    (ThreadedTaskDispatcher, "set_thread_count"), (ThreadedTaskDispatcher, "shutdown"),
    (WSGITask, "execute"), (ErrorTask, "execute"),
]


@pytest.mark.parametrize("owner, name", WAITRESS_PARTS, ids=lambda part: getattr(part, "__name__", part))
def test_the_waitress_parts_the_server_builds_on_are_there(owner, name):
    assert hasattr(owner, name), f"waitress {version('waitress')}: {owner.__name__}.{name} is gone"


# attributes a bound server has (set in its constructor, so not on the class): Server reaches the pool,
# the wake-up trigger and the private socket map (to stop, as waitress has no stop of its own, and to count
# connections accepted in a burst)
WAITRESS_SERVER_PARTS = ["_map", "trigger", "task_dispatcher", "socket"]


def test_a_bound_waitress_server_has_the_attributes_the_server_uses():
    server = create_server(lambda environ, start_response: [], host="127.0.0.1", port=0, threads=1)
    try:
        missing = [name for name in WAITRESS_SERVER_PARTS if not hasattr(server, name)]
        assert not missing, f"waitress {version('waitress')}: a bound server has no {', '.join(missing)}"
    finally:
        server.close()
        server.task_dispatcher.shutdown(timeout=1)


def test_waitress_channels_create_their_parser_through_parser_class_with_adj():
    source = inspect.getsource(HTTPChannel.received)
    assert "self.parser_class(self.adj)" in source, "the channel builds its parser another way now"


def test_flask_lets_a_request_context_choose_its_route():
    assert callable(getattr(flask.ctx.RequestContext, "match_request", None))
    assert "url_adapter" in inspect.getsource(flask.ctx.RequestContext.match_request)


@pytest.mark.parametrize("package", ["waitress", "flask", "werkzeug"])
def test_the_installed_version_is_inside_the_range_pyproject_allows(package):
    wanted = next(Requirement(line) for line in requires("emma-mock") or []
                  if Requirement(line).name.lower() == package)
    assert wanted.specifier.contains(version(package)), f"{package} {version(package)} outside {wanted.specifier}"
