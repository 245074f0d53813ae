"""Lists: normalisation, matching, and CSV import that refuses bad files as a whole."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from rules import services
from rules.lists import ListSnapshot, normalize_entry, normalize_name
from rules.models import RuleList
from rules.tests import factories


@pytest.mark.parametrize(
    "variant",
    [
        "José María Pérez",
        "jose maria perez",
        "PÉREZ, José María",
        "Maria  Jose-Perez",
        "perez jose maria",
    ],
)
def test_names_match_whatever_case_accents_punctuation_and_order(variant):
    assert normalize_name(variant) == "jose maria perez"


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("country", " ir ", "IR"),
        ("bank", "dbsssgsg", "DBSSSGSG"),
        ("ip", "203.0.113.0/24", "203.0.113.0/24"),
        ("ip", "203.0.113.7", "203.0.113.7/32"),
        ("account", "ACC-1", "ACC-1"),
    ],
)
def test_entries_are_stored_normalised(kind, value, expected):
    assert normalize_entry(kind, value) == expected


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("country", "XX"),
        ("country", "IRN"),
        ("ip", "300.1.1.1"),
        ("account", "a b"),
        ("name", "!!"),
    ],
)
def test_invalid_entries_are_refused_with_a_reason(kind, value):
    with pytest.raises(ValueError, match=r"\S"):
        normalize_entry(kind, value)


def test_snapshot_matches_ip_networks_and_ignores_empty_values():
    snapshot = ListSnapshot(
        {"bad_ips": ("ip", ["203.0.113.0/24", "198.51.100.7/32"]), "ctry": ("country", ["IR"])}
    )
    assert snapshot.contains("bad_ips", "203.0.113.99")
    assert snapshot.contains("bad_ips", "198.51.100.7")
    assert not snapshot.contains("bad_ips", "198.51.100.8")
    assert not snapshot.contains("bad_ips", "not an ip")
    assert snapshot.contains("ctry", "ir")
    assert not snapshot.contains("ctry", "")


@pytest.mark.django_db
def test_csv_import_adds_entries_and_skips_the_header_and_duplicates():
    rule_list = RuleList.objects.create(name="watch", kind="name")
    result = services.list_entries_import(
        rule_list=rule_list,
        csv_text="value,note\nJosé Pérez,PEP\njose perez,same person\nAcme Trading Ltd,\n",
    )
    assert (result.added, result.removed) == (2, 0)
    assert sorted(rule_list.entries.values_list("normalized", flat=True)) == [
        "acme ltd trading",
        "jose perez",
    ]


@pytest.mark.django_db
def test_a_csv_with_bad_rows_imports_nothing_and_names_the_rows():
    rule_list = RuleList.objects.create(name="countries", kind="country")
    with pytest.raises(ValidationError) as error:
        services.list_entries_import(rule_list=rule_list, csv_text="IR\nXX\nKP\nA,B,C\n")
    text = " ".join(error.value.messages)
    assert "Nothing was imported" in text
    assert "row 2" in text and "row 4" in text
    assert not rule_list.entries.exists()


@pytest.mark.django_db
def test_replace_makes_the_list_exactly_the_file_once_a_second_officer_approves():
    alice, bob = factories.officer(), factories.officer()
    rule_list = RuleList.objects.create(name="countries", kind="country")
    services.list_entries_import(rule_list=rule_list, csv_text="IR\nKP\n")
    result = services.list_entries_import(
        rule_list=rule_list, csv_text="KP\nMM\n", replace=True, actor=alice
    )
    assert (result.added, result.removed, result.unchanged) == (1, 0, 1)
    assert result.awaiting_removal == 1
    assert sorted(rule_list.entries.values_list("normalized", flat=True)) == ["IR", "KP", "MM"]
    services.rule_change_approve(change=result.change, approver=bob)
    assert sorted(rule_list.entries.values_list("normalized", flat=True)) == ["KP", "MM"]
