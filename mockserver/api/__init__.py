"""The API blueprints, one module per area of the real API."""
from flask import Flask

from . import members, touchpoint_types, touchpoints


def register(app: Flask) -> None:
    for module in (touchpoint_types, touchpoints, members):
        app.register_blueprint(module.blueprint)
