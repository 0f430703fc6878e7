"""`wsgi_bare:app` — the bare Flask app (BENCH_BARE_BODIES) as a module-level WSGI app, for granian."""
from bench_apps import bare_app

app = bare_app()
