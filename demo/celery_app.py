"""The demo's Celery application: deliver the outbox with Celery workers.

With ``MAILPROOF_DELIVERY=celery`` and ``REDIS_URL`` set (environment or ``.env``)::

    celery -A demo.celery_app worker -B --loglevel=info

``-B`` runs the periodic sweep in the same process; with several workers, start one
``celery -A demo.celery_app beat`` instead and drop ``-B``.
"""

from __future__ import annotations

from flask_mailproof.celery import make_celery

from . import create_app

flask_app = create_app()
celery = make_celery(flask_app)
