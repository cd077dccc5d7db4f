"""A Django project receiving orderstatus webhooks in a sync view (an orderstatus recipe)."""
