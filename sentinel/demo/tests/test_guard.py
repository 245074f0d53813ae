"""The demo commands refuse to run where the settings do not allow demo data (production)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from rules.models import ListEntry, TypologyLabel
from sentinel.tests.test_settings import production_env, run
from transactions.models import ApiKey, PartnerBank, Transaction


@pytest.mark.django_db
@override_settings(SENTINEL_ALLOW_DEMO=False)
def test_seed_demo_refuses_to_run_where_demo_data_is_not_allowed_and_writes_nothing():
    # Given settings that do not allow demo data
    # When an operator runs seed_demo
    with pytest.raises(CommandError, match="seed_demo refuses to run: .*SENTINEL_ALLOW_DEMO"):
        call_command("seed_demo", "--customers", "20", "--days", "1", stdout=StringIO())

    # Then nothing of the demo was written
    assert not PartnerBank.objects.exists()
    assert not ApiKey.objects.exists()
    assert not Transaction.objects.exists()
    assert not get_user_model().objects.exists()
    assert not ListEntry.objects.filter(rule_list__name="sanctions").exists()
    assert not TypologyLabel.objects.exists()


@pytest.mark.django_db
@override_settings(SENTINEL_ALLOW_DEMO=False)
def test_demo_traffic_refuses_to_run_where_demo_data_is_not_allowed_and_creates_no_key():
    with pytest.raises(CommandError, match="demo_traffic refuses to run: .*SENTINEL_ALLOW_DEMO"):
        call_command("demo_traffic", "--url", "http://127.0.0.1:9", "--limit", "1")

    assert not PartnerBank.objects.exists()
    assert not ApiKey.objects.exists()


def test_the_production_settings_refuse_seed_demo(tmp_path):
    # Given a complete production environment, pointed at a database that does not exist, so
    # that even a broken switch could not write demo data anywhere
    env = production_env(
        tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:5432/sentinel_no_such_database"
    )

    # When an operator runs seed_demo there
    result = run(["manage.py", "seed_demo", "--customers", "20", "--days", "1"], env)

    # Then it stops before touching the database, saying why
    assert result.returncode == 1
    assert "seed_demo refuses to run" in result.stderr
    assert "SENTINEL_ALLOW_DEMO" in result.stderr
