"""The demo: seeded history (``seed_demo``) and live traffic (``demo_traffic``) to explore Sentinel.

An app of its own, above every product app (``transactions`` <- ``rules`` <- ``alerts`` <-
``cases``): seeding the whole product writes to all of them, and nothing in them depends on it.
``generator`` (with ``base``, ``lives`` and ``typologies``) and ``stream`` are pure, seeded
functions tested without a database; the management commands store what they produce.
"""
