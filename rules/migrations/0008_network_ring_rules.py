"""The network ring rules (rules.default_pack.NETWORK_RING_PACK), raised by the scheduled
window scan: installed as drafts, like the other network rules, since network analytics is
off by default (docs/network.md)."""

from django.db import migrations

from rules.default_pack import NETWORK_RING_PACK, pack_install


def install(apps, schema_editor) -> None:
    pack_install(apps, NETWORK_RING_PACK)


def uninstall(apps, schema_editor) -> None:
    """Leaves the rules: their versions are append-only history, which no migration deletes.
    Installing again skips them (``install`` passes over codes that exist)."""


class Migration(migrations.Migration):
    dependencies = [
        ("rules", "0007_network_typologies"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
