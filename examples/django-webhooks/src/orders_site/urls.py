"""The site's one route. Point each provider's webhook setting at it:
``https://your.host/webhooks/printapi``, ``https://your.host/webhooks/gooten?orderid=``."""

from __future__ import annotations

from django.urls import path

from .views import webhook

urlpatterns = [path("webhooks/<str:provider>", webhook)]
