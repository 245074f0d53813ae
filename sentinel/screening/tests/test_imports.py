"""Importing lists as diffs, four eyes on removals, and screening in the rules' features."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from rules.features import FeatureBatch
from rules.tests.factories import officer
from sentinel.screening import runtime
from sentinel.screening.choices import ChangeAction, RemovalState
from sentinel.screening.features import ScreeningFeatures
from sentinel.screening.formats import ListFormatError
from sentinel.screening.models import EntryChange, ScreeningEntry, ScreeningList
from sentinel.screening.services import list_import_decide, screening_list_import
from transactions.models import Transaction

FIXTURES = Path(__file__).parent / "fixtures"
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_screening_index")]


def sdn(content: bytes | None = None, actor=None):
    return screening_list_import(
        list_name="OFAC SDN",
        source="ofac_sdn",
        content=content or (FIXTURES / "ofac_sdn.xml").read_bytes(),
        actor=actor,
    )


@pytest.mark.parametrize(
    ("source", "name", "entries"),
    [
        ("ofac_sdn", "ofac_sdn.xml", 3),
        ("eu", "eu.xml", 2),
        ("un", "un.xml", 2),
        ("ofsi", "ofsi.csv", 2),
        ("opensanctions", "opensanctions.csv", 3),
    ],
)
def test_each_format_imports_its_fixture(source, name, entries):
    result = screening_list_import(
        list_name=source, source=source, content=(FIXTURES / name).read_bytes()
    )
    assert result.added == entries
    assert ScreeningEntry.objects.in_force().count() == entries
    assert EntryChange.objects.filter(action=ChangeAction.ADDED).count() == entries


def test_reimport_records_changes_and_holds_removals_for_a_second_officer():
    first, second = officer(), officer()
    sdn(actor=first)
    changed = (FIXTURES / "ofac_sdn.xml").read_bytes().replace(b"30 Jul 1961", b"30 Jul 1962")
    without_vessel = changed.split(b"  <sdnEntry>\n    <uid>10003</uid>")[0] + b"</sdnList>\n"
    result = sdn(without_vessel, actor=first)
    assert (result.added, result.changed, result.unchanged, result.removed) == (0, 1, 1, 1)
    assert result.removal_state == RemovalState.PENDING
    change = result.changes.get(action=ChangeAction.CHANGED)
    assert change.before["birth_dates"] == ["1961-07-30"]
    assert change.after["birth_dates"] == ["1962-07-30"]
    vessel = ScreeningEntry.objects.get(source_id="10003")
    assert vessel.removed_at is None  # still screened while the removal waits

    with pytest.raises(PermissionDenied, match="another officer"):
        list_import_decide(list_import=result, approver=first, approve=True)
    with pytest.raises(ValidationError, match="awaiting approval"):
        sdn(without_vessel, actor=first)

    list_import_decide(list_import=result, approver=second, approve=True)
    vessel.refresh_from_db()
    assert vessel.removed_at is not None
    assert ScreeningEntry.objects.in_force().count() == 2


def test_rejected_removals_leave_the_entries_in_force():
    first, second = officer(), officer()
    sdn(actor=first)
    text = (FIXTURES / "ofac_sdn.xml").read_bytes()
    result = sdn(
        text.split(b"  <sdnEntry>\n    <uid>10003</uid>")[0] + b"</sdnList>\n", actor=first
    )
    list_import_decide(list_import=result, approver=second, approve=False)
    assert ScreeningEntry.objects.in_force().count() == 3


def test_a_malformed_file_changes_nothing():
    sdn()
    with pytest.raises(ListFormatError):
        sdn(b"<sdnList><sdnEntry>")
    assert ScreeningList.objects.get().imports.count() == 1
    assert ScreeningEntry.objects.count() == 3


def test_import_list_command_reports_the_diff_and_refuses_bad_files(tmp_path, capsys):
    call_command("import_list", "un", str(FIXTURES / "un.xml"))
    assert "2 added, 0 changed" in capsys.readouterr().out
    bad = tmp_path / "bad.xml"
    bad.write_text("<CONSOLIDATED_LIST>")
    with pytest.raises(CommandError, match="Nothing was imported: Not well-formed XML"):
        call_command("import_list", "un", str(bad))


def test_the_provider_scores_parties_against_lists_in_force():
    sdn()
    tx = Transaction(originator_name="Ana Lima", beneficiary_name="Youssef Ebrahim Alamri")
    tx.originator_country, tx.beneficiary_country = "US", "YE"
    [values] = ScreeningFeatures().values(FeatureBatch(transactions=[tx], profiles={}))
    assert values["screening.best_score"] >= 88
    assert values["screening.kind"] == "sanctions" and values["screening.party"] == "beneficiary"
    assert values["screening.list"] == "OFAC SDN" and values["screening.type"] == "person"
    assert values["screening.reasons"][1:] == (
        "alamri=alamri exact 100, ebrahim=ibrahim phonetic 92, youssef=yusuf phonetic 90",
        "country +2: YE is listed",
    )


def test_a_list_change_bumps_the_generation_and_the_index_is_rebuilt(
    django_capture_on_commit_callbacks,
):
    assert len(runtime.current_index()) == 0
    before = runtime._generation()
    with django_capture_on_commit_callbacks(execute=True):
        sdn()
    assert runtime._generation() != before  # other processes rebuild within 0.5 s
    assert runtime.current_index().entries == 3


def test_a_pep_match_never_hides_a_sanctions_match():
    sdn()
    screening_list_import(
        list_name="PEPs",
        source="opensanctions",
        kind="pep",
        content=(FIXTURES / "opensanctions.csv").read_bytes(),
    )
    screening_list_import(  # the same people, also published as PEPs
        list_name="PEP copy of SDN",
        source="ofac_sdn",
        kind="pep",
        content=(FIXTURES / "ofac_sdn.xml").read_bytes(),
    )
    both = Transaction(originator_name="Yusuf Ibrahim Al-Amri", beneficiary_name="")
    pep_only = Transaction(originator_name="Maria Elena Torres", beneficiary_name="")
    values = ScreeningFeatures().values(FeatureBatch(transactions=[both, pep_only], profiles={}))
    assert values[0]["screening.kind"] == "sanctions" and values[0]["screening.list"] == "OFAC SDN"
    assert values[0]["screening.pep_score"] == values[0]["screening.sanctions_score"] == 100
    assert values[1]["screening.kind"] == "pep" and values[1]["screening.sanctions_score"] == 0
