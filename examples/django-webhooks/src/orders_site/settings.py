"""Django settings: only what the webhook view needs; configured from the environment."""

from __future__ import annotations

import os

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")
ROOT_URLCONF = "orders_site.urls"
WSGI_APPLICATION = "orders_site.wsgi.application"
INSTALLED_APPS: list[str] = []
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",  # the webhook view is exempt: see views.py
]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
# Notifications are small; a larger body is refused (400) before the view reads it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024

# Where the tracker keeps each order's history: the same variable the orderstatus command reads.
ORDERSTATUS_STORE = os.environ.get("ORDERSTATUS_STORE", "orders.sqlite3")
