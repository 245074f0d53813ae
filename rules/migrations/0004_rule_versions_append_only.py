"""Rule versions (and the partner scope each was made with) join the shared append-only base.

Deleting a user, a rule or a version another one was restored from would have rewritten a
version row (SET NULL) or removed it (CASCADE): all three now PROTECT (docs/history.md).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from sentinel.history import append_only_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("rules", "0003_decision_degraded"),
        ("sentinel", "0002_append_only_function"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="ruleversion",
            name="author",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty for versions installed with Sentinel.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="ruleversion",
            name="restored_from",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="rules.ruleversion",
            ),
        ),
        migrations.AlterField(
            model_name="ruleversion",
            name="rule",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="versions",
                to="rules.rule",
            ),
        ),
        append_only_triggers("rules_ruleversion"),
        append_only_triggers("rules_ruleversion_partners"),
    ]
