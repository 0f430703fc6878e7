"""The serving edge: the app factory, the WSGI front before it, the server, the CLI and the health check."""
