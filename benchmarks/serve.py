"""Serve a benchmark app on an in-process WSGI server and print "serving on URL" first.

    python benchmarks/serve.py SERVER APP --port P [--threads N]

SERVER: emma-waitress (mockserver.serving.server.Server, the CLI's server), waitress
(plain waitress.create_server), cheroot, gevent (gevent.pywsgi, no monkey-patching, TCP_NODELAY
set per connection: without it Nagle's algorithm holds each answer ~40 ms), flask-dev
(werkzeug, threaded).
APP: mock (BENCH_FIXTURES, default fixture) or bare (BENCH_BARE_BODIES).
Stops on SIGTERM (the default action). Only ever binds 127.0.0.1.
"""
from __future__ import annotations

import argparse
import logging
import sys


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("server", choices=["emma-waitress", "waitress", "cheroot", "gevent", "flask-dev"])
    p.add_argument("app", choices=["mock", "bare"])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--threads", type=int, default=8)
    args = p.parse_args()

    import bench_apps
    app = bench_apps.mock_app() if args.app == "mock" else bench_apps.bare_app()
    host = "127.0.0.1"

    if args.server == "emma-waitress":
        from mockserver.serving.server import Server
        server = Server(app, host, args.port, args.threads)
        print(f"serving on {server.url}", flush=True)
        server.serve_forever()
    elif args.server == "waitress":
        from waitress.server import create_server
        server = create_server(app, host=host, port=args.port, threads=args.threads, channel_timeout=60)
        print(f"serving on http://{host}:{server.effective_port}", flush=True)
        server.run()
    elif args.server == "cheroot":
        from cheroot import wsgi
        server = wsgi.Server((host, args.port), app, numthreads=args.threads)
        server.prepare()
        print(f"serving on http://{host}:{server.bind_addr[1]}", flush=True)
        server.serve()
    elif args.server == "gevent":
        import socket

        from gevent.pywsgi import WSGIHandler, WSGIServer

        class Handler(WSGIHandler):
            def handle(self) -> None:
                self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                super().handle()

        server = WSGIServer((host, args.port), app, log=None, handler_class=Handler)
        server.init_socket()
        print(f"serving on http://{host}:{server.server_port}", flush=True)
        server.serve_forever()
    else:
        from werkzeug.serving import make_server
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # measure the server, not its access log
        server = make_server(host, args.port, app, threaded=True)
        print(f"serving on http://{host}:{server.server_port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
