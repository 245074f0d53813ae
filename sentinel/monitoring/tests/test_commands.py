"""``import_status_counts`` and ``monitor_report``, including the shared three-day replay."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from sentinel.monitoring.models import MinuteStat
from sentinel.testing import command_output
from transactions.models import Transaction
from transactions.tests.factories import PartnerBankFactory

pytestmark = pytest.mark.django_db


def write(tmp_path, text: str) -> str:
    path = tmp_path / "counts.csv"
    path.write_text(text)
    return str(path)


GOOD = """timestamp,status,count
2025-07-12 13:45:00,approved,3
2025-07-12 13:45:00,failed,1
2025-07-12 13:46:00,approved,2
2025-07-12 13:46:00,refunded,1
"""


def test_bad_rows_are_reported_with_line_numbers_and_nothing_is_imported(tmp_path):
    partner = PartnerBankFactory()
    path = write(
        tmp_path,
        "timestamp,status,count\n"
        "2025-07-12 13:45:00,approved,3\n"
        "yesterday,approved,1\n"
        "2025-07-12 13:46:00,chargeback,2\n"
        "2025-07-12 13:47:00,failed,-4\n"
        "2025-07-12 13:48:00,failed,many\n",
    )

    with pytest.raises(CommandError) as failure:
        call_command("import_status_counts", path, partner=partner.slug)

    message = str(failure.value)
    assert "4 bad rows" in message and "nothing was imported" in message
    assert "line 3: unparseable timestamp 'yesterday'" in message
    assert "line 4: unknown status 'chargeback'" in message
    assert "line 5: negative count -4" in message
    assert "line 6: count 'many' is not a whole number" in message
    assert not Transaction.objects.exists() and not MinuteStat.objects.exists()


def test_unmapped_statuses_are_refused_and_mapped_ones_imported(tmp_path):
    partner = PartnerBankFactory()
    path = write(tmp_path, GOOD)
    with pytest.raises(CommandError, match="line 5: unknown status 'refunded'"):
        call_command("import_status_counts", path, partner=partner.slug)

    output = command_output(
        "import_status_counts", path, partner=partner.slug, mappings=["refunded=approved:refund"]
    )

    assert "Imported 7 new transactions" in output
    refund = Transaction.objects.get(type="refund")
    assert (refund.status, refund.direction) == ("approved", "inbound")
    first = MinuteStat.objects.get(partner=partner, dimension="", minute__minute=45)
    assert (first.total, first.failed) == (4, 1)
    # Replayed history is never scored as live traffic
    assert not Transaction.objects.filter(profiled_at__isnull=True).exists()


def test_a_second_import_of_the_same_file_adds_nothing(tmp_path):
    partner = PartnerBankFactory()
    path = write(tmp_path, GOOD)
    call_command("import_status_counts", path, partner=partner.slug, mappings=["refunded=skip"])
    output = command_output(
        "import_status_counts", path, partner=partner.slug, mappings=["refunded=skip"]
    )

    assert "Imported 0 new transactions" in output
    assert Transaction.objects.count() == 6


@pytest.mark.parametrize("bad", ["refunded", "refunded=bounced", "refunded=approved:gift"])
def test_bad_mappings_are_refused(tmp_path, bad):
    partner = PartnerBankFactory()
    with pytest.raises(CommandError, match="--map"):
        call_command(
            "import_status_counts", write(tmp_path, GOOD), partner=partner.slug, mappings=[bad]
        )


def test_unknown_partner_is_refused(tmp_path):
    with pytest.raises(CommandError, match="No partner"):
        call_command("import_status_counts", write(tmp_path, GOOD), partner="nobody")


def test_the_shared_three_days_are_healthy_at_the_last_minute(partner_client, shared_data):
    # Given the three days of card traffic replayed for a partner
    client = partner_client("Replay Bank")
    call_command(
        "import_status_counts",
        str(shared_data / "status_counts.csv"),
        partner=client.partner.slug,
        mappings=["backend_reversed=reversed", "refunded=approved:refund"],
        stdout=io.StringIO(),
    )

    # When the last minute is reported, by the command and by the API
    report = json.loads(command_output("monitor_report", partner=client.partner.slug, at="latest"))
    api = client.get("/api/v1/monitor", {"at": "2025-07-15T13:44:00Z"}).json()

    # Then every metric is HEALTHY, in the contract's shape, and both agree
    assert report["current_minute"] == "2025-07-15T13:44:00Z"
    assert {"current_minute", "metrics", "thresholds", "persistence_analysis"} <= set(report)
    assert {s["severity"] for s in report["persistence_analysis"].values()} == {"HEALTHY"}
    assert report["metrics"]["total"] == 163
    assert report["thresholds"]["failed_rate"]["value"] is not None
    del api["open_alerts"]
    assert api == report
