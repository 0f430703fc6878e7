"""The serving edge: the app factory, the WSGI control layer in front of it, the server and the CLI."""
