"""The house-price predictor: a Flask app serving a verified ONNX export of the model."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when called, so that `python -m function` starts light
    from flask import Flask

    from .gateway import Gateway


def create_app(config: dict[str, Any] | None = None) -> "Flask":
    """The WSGI app (``function:create_app()``); see ``function.app.build_app``."""
    from .app import build_app  # here, so that `python -m function` starts light

    return build_app(config)


def create_rsgi_app() -> "Gateway":
    """The app as granian serves it (RSGI), each body read ahead of it: ``function.gateway``."""
    from .gateway import Gateway

    return Gateway(create_app())
