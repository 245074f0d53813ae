"""Value loops and U-turns (docs/network.md § The searches): a finding's cycle value spread
and value loop, and two more detector parameters. Version 1 and every later version get the
installed values (loop within 7 days, values within 25 %): adding a column with a default
rewrites no row, so the append-only trigger is not involved; the rules that read the new
findings are installed as drafts (rules migration 0010), so nothing alerts until an officer
puts them live."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0004_account_proximity"),
    ]

    operations = [
        migrations.AddField(
            model_name="networkfinding",
            name="cycle_value_spread",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="How far the cycle's hop values lie apart, in one currency: (largest - "
                "smallest) / largest, in %; empty when a rate to compare them is missing.",
                max_digits=5,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="networkfinding",
            name="loop_length",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="Hops of a value loop through this transfer: a cycle of 3 or more, in "
                "any time order, within the loop window, its hop values within the value "
                "spread; 0: none.",
            ),
        ),
        migrations.AddField(
            model_name="parameterversion",
            name="loop_days",
            field=models.PositiveSmallIntegerField(
                default=7,
                help_text="A value loop's hops, in any time order, all lie within this many days.",
                validators=[
                    django.core.validators.MinValueValidator(
                        1, message="At least 1: the graph keeps transfers for weeks, not months."
                    ),
                    django.core.validators.MaxValueValidator(
                        35, message="At most 35: the graph keeps transfers for weeks, not months."
                    ),
                ],
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="parameterversion",
            name="value_spread_percent",
            field=models.PositiveSmallIntegerField(
                default=25,
                help_text="A value loop's hop values, in one currency, lie at most this far apart "
                "((largest - smallest) / largest, in %): exchange spreads, fees and skims.",
                validators=[
                    django.core.validators.MinValueValidator(
                        0,
                        message="At least 0: values further apart than half are not the same "
                        "money.",
                    ),
                    django.core.validators.MaxValueValidator(
                        50,
                        message="At most 50: values further apart than half are not the same "
                        "money.",
                    ),
                ],
            ),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("loop_days__gte", 1), ("loop_days__lte", 35)),
                name="parameters_loop_days_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("value_spread_percent__gte", 0), ("value_spread_percent__lte", 50)
                ),
                name="parameters_value_spread_percent_range",
            ),
        ),
    ]
