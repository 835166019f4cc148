"""A host application that runs delivery as Celery tasks, for tests/test_celery.py.

``celery -A tests.celery_host worker -B`` loads this module: it builds the same host app as the
other worker-process tests (tests/outbox_worker.py) from the JSON in ``FLASK_ORCID_CELERY_TEST``
and registers flask_orcid's tasks on a Celery app whose broker and queue come from there.
"""

from __future__ import annotations

import json
import os
from typing import Any

from celery import Celery
from flask import Flask

from flask_orcid.tasks import init_celery
from tests.outbox_worker import build_app


def build(spec: dict[str, Any]) -> tuple[Celery, Flask, Any]:
    app = build_app(dict(spec["config"]))
    celery = Celery("celery_host", broker=spec["broker"])
    celery.conf.update(task_default_queue=spec["queue"], broker_connection_retry_on_startup=True,
                       worker_hijack_root_logger=False)
    task = init_celery(celery, app, interval=spec["interval"])
    return celery, app, task


if "FLASK_ORCID_CELERY_TEST" in os.environ:
    celery, flask_app, deliver_task = build(json.loads(os.environ["FLASK_ORCID_CELERY_TEST"]))
