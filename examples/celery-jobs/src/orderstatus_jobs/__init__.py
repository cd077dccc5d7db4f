"""Provider webhooks queued for a Celery worker that fetches and records (an orderstatus recipe)."""
