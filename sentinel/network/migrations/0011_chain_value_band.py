"""The layering chain's value band (docs/network.md § The searches, issue 16): an account of a
chain pays on between ``forward_share_percent`` and ``forward_most_percent`` of the value it
received, compared in one currency (detectors.chain_band). Until now the search compared
amounts whatever their currencies and let a hop pay on at most the fee tolerance (2 %) more
than it got; a chain's hops change currency and vary both ways.

As network migrations 0005 and 0010 did, version 1 and every later version get the installed
value (110 %: the rate the bank converted at against the day's reference rate, and the rounding
of a converted sum, move it up by a few percent; more than a tenth above what came in is other
money): the search's definition of "passed on" changes for all of them, and a version that
wants the old upper bound sets 100 (four eyes, back-tested first). Adding a column with a
default rewrites no row, so the append-only trigger is not involved; the default is dropped
afterwards (a version names every parameter)."""

from decimal import Decimal

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("network", "0010_everyday_sums"),
    ]

    operations = [
        migrations.AddField(
            model_name="parameterversion",
            name="forward_most_percent",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("110.00"),
                help_text="... and at most this share of it, in % (values compared in one "
                "currency: exchange and the launderers' own variations go both ways; 100: never "
                "more).",
                max_digits=5,
                validators=[
                    django.core.validators.MinValueValidator(
                        100,
                        message="At least 100: paying on twice what came in is not passing it "
                        "through.",
                    ),
                    django.core.validators.MaxValueValidator(
                        200,
                        message="At most 200: paying on twice what came in is not passing it "
                        "through.",
                    ),
                ],
            ),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="parameterversion",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("forward_most_percent__gte", 100), ("forward_most_percent__lte", 200)
                ),
                name="parameters_forward_most_percent_range",
            ),
        ),
    ]
