"""The order transfers arrive in the graph (docs/network.md § The graph, "Arrival order"):
a search from a transfer reads only the transfers added before it, as if the batch had been
processed one transfer at a time, so its findings no longer depend on where the queue's
batches happened to split (their size adapts to load).

The column is filled from a sequence by the insert (services.transfers_record), not by a
column default: a volatile default would rewrite every stored edge now. Edges recorded before
this migration keep no arrival and count as older than any new one."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0011_chain_value_band"),
    ]

    operations = [
        migrations.AddField(
            model_name="transfer",
            name="arrival",
            field=models.BigIntegerField(
                blank=True,
                editable=False,
                help_text="The order transfers were added to the graph (a sequence): a search "
                "from a transfer reads only those added before it, so what it finds does not "
                "depend on how the queue batched it. Empty for edges recorded before it was kept.",
                null=True,
            ),
        ),
        migrations.RunSQL(
            "CREATE SEQUENCE network_transfer_arrival OWNED BY network_transfer.arrival",
            "DROP SEQUENCE network_transfer_arrival",
        ),
    ]
