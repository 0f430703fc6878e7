"""The production WSGI server: waitress, taught two things a mock needs.

* A fault with `"action": "drop"` closes the connection without an answer:
  the control layer raises DropConnection and our task swallows it with
  nothing written, so the client sees the socket close.
* Waitress answers requests it cannot parse (overlong headers, bad chunking)
  itself, in text/plain; ours answers them as JSON `{"error": ...}` too.

Waitress was chosen by measurement (see README, "Choosing the WSGI server"):
pure Python, one process with a thread pool (the state lives in memory),
runs in a background thread of a test process, and stops cleanly.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask, WSGITask

from .control_layer import DropConnection


class _Task(WSGITask):
    def get_environment(self) -> dict:
        environ = super().get_environment()
        environ["mockserver.can_drop"] = True
        return environ

    def execute(self) -> None:
        try:
            super().execute()
        except DropConnection:
            self.close_on_finish = True
            self.wrote_header = True  # nothing may be written: the client sees the connection close


class _JSONErrorTask(ErrorTask):
    def execute(self) -> None:
        error = self.request.error
        body = json.dumps({"error": f"{error.reason}: {error.body}"}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    task_class = _Task
    error_task_class = _JSONErrorTask


class Server:
    """A bound waitress server: `url` is known before `serve_forever()`; `stop()` from any thread."""

    def __init__(self, app: Callable, host: str = "127.0.0.1", port: int = 8080, threads: int = 8):
        self._server = create_server(app, host=host, port=port, threads=threads, ident="emma-mock",
                                     clear_untrusted_proxy_headers=True, expose_tracebacks=False,
                                     channel_timeout=60)
        self._listeners = ([self._server] if isinstance(self._server, BaseWSGIServer) else
                           [d for d in self._server.map.values() if isinstance(d, BaseWSGIServer)])
        for listener in self._listeners:
            listener.channel_class = _Channel
        self._serving = self._stopping = False

    @property
    def port(self) -> int:
        return self._listeners[0].socket.getsockname()[1]

    @property
    def url(self) -> str:
        host = self._listeners[0].socket.getsockname()[0]
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        """Serve until stop() (or KeyboardInterrupt in this thread)."""
        self._serving = True
        try:
            self._server.run()
        except (OSError, ValueError):
            # stop() closes sockets from another thread; a poll on a socket closed
            # under it may fail once on the way out. Anything else is a real error.
            if not self._stopping:
                raise
        finally:
            self._serving = False

    def stop(self) -> None:
        """Close the listening sockets and open connections and end the worker threads."""
        self._stopping = True
        listener = self._listeners[0]
        socket_map = listener._map
        closed = threading.Event()

        def close_all() -> None:
            for dispatcher in list(socket_map.values()):
                try:
                    dispatcher.close()
                except Exception:  # noqa: BLE001 - a half-closed channel must not stop the shutdown
                    pass
            socket_map.clear()  # the serving loop ends when its map is empty
            closed.set()

        if self._serving:
            try:
                listener.trigger.pull_trigger(close_all)  # runs in the loop's own thread, which then ends at once
            except OSError:
                pass  # a wake-up from a worker ran close_all (closing this trigger) before our byte was written
            closed.wait(5)
        if not closed.is_set():
            close_all()
        listener.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
