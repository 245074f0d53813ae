"""``model_report --dataset amlsim``: an AMLSim-shaped sample replayed through the real ingest
and scoring path, trained on day steps 1-100 and measured per account after; and its
refusals."""

from __future__ import annotations

import csv
import json
import random
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from rules.features import registry
from sentinel.pipeline import datasets
from sentinel.riskmodel.models import DecisionFeatures
from transactions.models import PartnerBank

pytestmark = pytest.mark.django_db

LAUNDERING = [f"{n}" for n in range(8)]
NORMAL = [f"{n}" for n in range(8, 40)]


def _write_sample(directory: Path) -> Path:
    """Days 96-105: normal accounts pay each other 20-200; laundering ones move 4,000-9,000
    between themselves and pass some on, every day."""
    sample = directory / "amlsim"
    sample.mkdir()
    rng = random.Random(3)
    with open(sample / "nodes.csv", "w", newline="") as nodes:
        writer = csv.writer(nodes)
        writer.writerow(["nodeid", "isFraud", "init_balance", "fraudStep"])
        for account in LAUNDERING + NORMAL:
            bad = account in LAUNDERING
            writer.writerow([account, int(bad), "100.00", 96 if bad else -1])
    with open(sample / "transactions.csv", "w", newline="") as transfers:
        writer = csv.writer(transfers)
        writer.writerow(["sourceNodeId", "targetNodeId", "value", "time"])
        for day in range(96, 106):
            for _ in range(6):
                sender, receiver = rng.sample(NORMAL, 2)
                writer.writerow([sender, receiver, f"{rng.uniform(20, 200):.2f}", day])
            for index, sender in enumerate(LAUNDERING):
                receiver = LAUNDERING[(index + day) % len(LAUNDERING)]
                if receiver != sender:
                    writer.writerow([sender, receiver, f"{rng.uniform(4000, 9000):.2f}", day])
    return directory


def _report(data: Path, *extra: str) -> str:
    out = StringIO()
    call_command("model_report", "--dataset", "amlsim", "--data", str(data), *extra, stdout=out)
    return out.getvalue()


def test_amlsim_is_replayed_once_and_measured_per_account_after_step_100(tmp_path):
    data = _write_sample(tmp_path)

    report = json.loads(_report(data, "--json"))

    partner = PartnerBank.objects.get(name=datasets.AMLSIM_PARTNER)
    sample = datasets.AmlSim.load(data / "amlsim")
    first_test_day = sample.step_start(partner, 101)
    active_after = {a for s, r, _, day in sample.transfers if day > 100 for a in (s, r)}
    assert report["split_at"] == first_test_day.isoformat()
    # Every transfer is stored from both sides and every decision kept its inputs.
    assert DecisionFeatures.objects.filter(partner=partner).count() == partner.transactions.count()
    assert report["bad_accounts"] == len(LAUNDERING)
    assert report["accounts"] == len(active_after)
    assert report["train_bad"] > 0
    # Separable by amount and breadth: the model ranks every laundering account first.
    assert report["figures"]["model"]["pr_auc"] == pytest.approx(1.0)
    assert report["figures"]["model"]["recall_at_1%_normal"] == 1.0
    assert {name for name, _ in report["top_features"]} <= set(
        DecisionFeatures.objects.first().schema.names
    )

    stored = partner.transactions.count()
    again = _report(data)  # a second run reports on what is stored

    assert partner.transactions.count() == stored
    assert f"measured on {len(active_after)} accounts active after it, 8 laundering" in again
    assert "Inputs the trees gained most from:" in again


def test_without_the_model_provider_nothing_is_replayed_and_it_says_how(tmp_path, settings):
    data = _write_sample(tmp_path)
    settings.SENTINEL_FEATURE_PROVIDERS = [
        path for path in settings.SENTINEL_FEATURE_PROVIDERS if "riskmodel" not in path
    ]
    registry.providers.cache_clear()
    try:
        with pytest.raises(CommandError, match="SENTINEL_RISK_MODEL=1"):
            _report(data)
    finally:
        registry.providers.cache_clear()

    assert not PartnerBank.objects.filter(name=datasets.AMLSIM_PARTNER).exists()


def test_a_replay_stored_without_the_model_inputs_is_refused(tmp_path):
    data = _write_sample(tmp_path)
    _report(data)
    DecisionFeatures.objects.all().delete()

    with pytest.raises(CommandError, match="replayed with the model's provider off"):
        _report(data)


def test_a_missing_data_directory_is_named(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        _report(tmp_path)
