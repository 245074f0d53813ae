"""Everyday sums (docs/network.md § The searches, issue 16): the amount-carried search no longer
follows two hops in a row that both carry a whole sum under ``everyday_sum_below`` (25.00 passed
on as 25.00 among friends): people choose such sums, so they recur between strangers by chance.

As network migration 0005 did for the value loop's parameters, version 1 and every later version
get the installed value (1,000): the searches' definition of "the same sum carried" changes for
all of them, and a version that wants the old behaviour sets 0 (four eyes, back-tested against
the one in force first). Adding a column with a default rewrites no row, so the append-only
trigger is not involved; the default is dropped afterwards (a version names every parameter)."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0009_transfer_value_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="parameterversion",
            name="everyday_sum_below",
            field=models.PositiveIntegerField(
                default=1000,
                help_text="Two hops in a row carrying whole sums under this (25.00, 50.00: what "
                "people choose to pay each other) are not taken for the same sum carried (0: "
                "they are).",
                validators=[
                    django.core.validators.MinValueValidator(
                        0, message="At least 0: 0 turns the exclusion off."
                    ),
                    django.core.validators.MaxValueValidator(
                        1000000, message="At most 1,000,000: 0 turns the exclusion off."
                    ),
                ],
            ),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("everyday_sum_below__gte", 0), ("everyday_sum_below__lte", 1000000)
                ),
                name="parameters_everyday_sum_below_range",
            ),
        ),
    ]
