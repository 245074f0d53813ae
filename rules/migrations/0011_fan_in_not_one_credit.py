"""fan_in_many_senders, version 2 (rules.default_pack.FAN_IN_NOT_ONE_CREDIT, docs/detection.md
§ Fan-in): one large credit added to a sole trader's small client payments no longer makes a
collection of them. Applied only where the rule still runs version 1 as installed."""

from django.db import migrations

from rules.default_pack import FAN_IN_NOT_ONE_CREDIT, pack_revise


def revise(apps, schema_editor) -> None:
    pack_revise(apps, (FAN_IN_NOT_ONE_CREDIT,))


def keep(apps, schema_editor) -> None:
    """Leaves version 2 in effect: versions are append-only history, which no migration deletes
    (an officer restores version 1 through the four-eyes flow if wanted)."""


class Migration(migrations.Migration):
    dependencies = [
        ("rules", "0010_network_value_rules"),
    ]

    operations = [migrations.RunPython(revise, keep)]
