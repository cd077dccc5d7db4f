"""The Celery app: the broker from ``CELERY_BROKER_URL``; late acknowledgement, so a task that
dies with its worker runs again.

``CELERY_BROKER_URL=filesystem://`` with ``CELERY_FILESYSTEM_FOLDER`` uses kombu's filesystem
transport: a broker that is a directory, for one machine and for tests. Elsewhere use Redis or
RabbitMQ (``redis://…``, ``amqp://…``).
"""

from __future__ import annotations

import os

from celery import Celery

app = Celery("orderstatus_jobs", broker=os.environ["CELERY_BROKER_URL"],
             include=["orderstatus_jobs.tasks"])
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
)
if folder := os.environ.get("CELERY_FILESYSTEM_FOLDER"):
    app.conf.broker_transport_options = {
        "data_folder_in": folder, "data_folder_out": folder,
        "control_folder": os.path.join(folder, "control"), "polling_interval": 0.1,
    }
