"""The network_value_loop and network_u_turn rules of the default pack (drafts, like the other
network rules; rules.default_pack.NETWORK_VALUE_PACK, docs/network.md § The searches). They
read fields the network step stores from network migration 0005 on."""

from django.db import migrations

from rules.default_pack import NETWORK_VALUE_PACK, pack_install


def install(apps, schema_editor) -> None:
    pack_install(apps, NETWORK_VALUE_PACK)


def uninstall(apps, schema_editor) -> None:
    """Leaves the rules: their versions are append-only history, which no migration deletes.
    Installing again skips them (``pack_install`` passes over codes that exist)."""


class Migration(migrations.Migration):
    dependencies = [
        ("rules", "0009_network_proximity_rule"),
        ("network", "0005_value_loops"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
