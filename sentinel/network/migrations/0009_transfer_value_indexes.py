"""The edge's currency is an ISO code, and the searches' indexes carry the currency and value
so the value-loop walk's band is answered from the index alone. Apart from 0008: the rows it
filled have pending foreign-key trigger events in its transaction, which forbid altering
the table there."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0008_transfer_value"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="transfer",
            constraint=models.CheckConstraint(
                condition=models.Q(("currency__regex", "^[A-Z]{3}$")),
                name="transfer_currency_iso",
            ),
        ),
        migrations.RemoveIndex(model_name="transfer", name="transfer_out"),
        migrations.RemoveIndex(model_name="transfer", name="transfer_in"),
        migrations.AddIndex(
            model_name="transfer",
            index=models.Index(
                fields=["partner", "source", "occurred_at"],
                include=("target", "amount", "currency", "value"),
                name="transfer_out",
            ),
        ),
        migrations.AddIndex(
            model_name="transfer",
            index=models.Index(
                fields=["partner", "target", "occurred_at"],
                include=("source", "amount", "currency", "value"),
                name="transfer_in",
            ),
        ),
    ]
