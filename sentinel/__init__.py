"""Sentinel: transaction monitoring and investigation for banks and fintechs."""

from .celery import app as celery_app

__all__ = ["celery_app"]
