"""`wsgi_mock:app` — the mock as a module-level WSGI app, for servers that import it (gunicorn, granian)."""
from bench_apps import mock_app

app = mock_app()
