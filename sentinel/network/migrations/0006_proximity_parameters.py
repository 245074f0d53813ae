"""Proximity's bound (3 hops) and hub limit (50 counterparties), code constants until now,
become parameters of the versioned set: every version so far gets the values the walk ran
with (behaviour unchanged), and a new version changes them under four eyes like the others.

Adding a column with a default rewrites no row, so the append-only trigger on versions is not
involved; the default is dropped afterwards (a version names every parameter)."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0005_value_loops"),
    ]

    operations = [
        migrations.AddField(
            model_name="parameterversion",
            name="proximity_hops",
            field=models.PositiveSmallIntegerField(
                default=3,
                help_text="Hops from a known-bad account within which an account's proximity is kept.",
                validators=[
                    django.core.validators.MinValueValidator(
                        1,
                        message="At least 1: beyond 3 hops a transaction graph is a small world: most accounts are that near a seed.",
                    ),
                    django.core.validators.MaxValueValidator(
                        3,
                        message="At most 3: beyond 3 hops a transaction graph is a small world: most accounts are that near a seed.",
                    ),
                ],
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="parameterversion",
            name="proximity_hub_counterparties",
            field=models.PositiveIntegerField(
                default=50,
                help_text="An account with more distinct counterparties in the window passes no proximity on (a processor, a payroll bureau).",
                validators=[
                    django.core.validators.MinValueValidator(
                        5,
                        message="At least 5: fewer would make ordinary customers hubs; more costs every node's read that many rows.",
                    ),
                    django.core.validators.MaxValueValidator(
                        1000,
                        message="At most 1,000: fewer would make ordinary customers hubs; more costs every node's read that many rows.",
                    ),
                ],
            ),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("proximity_hops__gte", 1), ("proximity_hops__lte", 3)),
                name="parameters_proximity_hops_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("proximity_hub_counterparties__gte", 5),
                    ("proximity_hub_counterparties__lte", 1000),
                ),
                name="parameters_proximity_hub_counterparties_range",
            ),
        ),
    ]
