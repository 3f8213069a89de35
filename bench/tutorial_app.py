"""The demo changed to send each request's mail before it answers, as tutorials do.

Served like the demo (``bench.tutorial_app:create_app()``, settings from the environment), it
shows what the outbox saves a sign-up when the mail server is slow. Kept apart from
``bench.baseline_app``, whose workers must load nothing of the demo.
"""

from __future__ import annotations

from flask import Flask, Response, g

from demo import create_app as create_demo
from flask_mailproof.mail.delivery import worker_name
from flask_mailproof.mail.worker import deliver_batch


def create_app() -> Flask:
    """Create the demo with no delivery worker; each request sends its own mail instead."""
    app = create_demo({"MAILPROOF_DELIVERY": "external"})
    outbox = app.extensions["mailproof"].outbox
    outbox.on_commit(lambda ids: g.setdefault("mail", []).extend(ids))

    @app.after_request
    def send_now(response: Response) -> Response:
        if ids := g.pop("mail", None):
            deliver_batch(worker_name(), only=ids)
        return response

    return app
