"""Each published format read from a fixture written in it; malformed files refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentinel.screening.formats import ListFormatError, parse_list

FIXTURES = Path(__file__).parent / "fixtures"


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_ofac_sdn_entries_keep_names_aliases_dates_and_programmes():
    parsed = parse_list("ofac_sdn", read("ofac_sdn.xml"))
    assert parsed.version == "12/01/2026"
    person, company, vessel = parsed.entries
    assert person.source_id == "10001" and person.entry_type == "person"
    assert person.names == [
        {"name": "Yusuf Ibrahim AL-AMRI", "strength": "strong"},
        {"name": "Youssef AL-AMRI", "strength": "strong"},
        {"name": "ABU YUSUF", "strength": "weak"},
    ]
    assert person.birth_dates == ["1961-07-30"]
    assert person.nationalities == ["YE"]
    assert person.programmes == ["SDGT"]
    assert company.entry_type == "entity" and company.programmes == ["IRAN", "SDGT"]
    assert company.addresses == ["Office 12, Port Road, Dubai, United Arab Emirates"]
    assert vessel.entry_type == "vessel"


def test_eu_entries_with_original_script_names_and_citizenship():
    parsed = parse_list("eu", read("eu.xml"))
    person, company = parsed.entries
    assert person.source_id == "EU.1001.11"
    assert [n["name"] for n in person.names] == ["Ivan Petrovich Sokolov", "Иван Петрович Соколов"]
    assert person.birth_dates == ["1965-04-12"] and person.nationalities == ["RU"]
    assert company.entry_type == "entity" and company.programmes == ["IRN"]


def test_un_individuals_and_entities_with_low_quality_aliases_weak():
    parsed = parse_list("un", read("un.xml"))
    person, entity = parsed.entries
    assert person.source_id == "KPi.033" and person.nationalities == ["KP"]
    assert {"name": "Comrade Ri", "strength": "weak"} in person.names
    assert {"name": "리원호", "strength": "strong"} in person.names
    assert person.birth_dates == ["1964-07-17"]
    assert entity.entry_type == "entity" and entity.names[1]["name"] == "KOMID"


def test_ofsi_rows_grouped_into_one_entry_per_group_id():
    parsed = parse_list("ofsi", read("ofsi.csv"))
    assert parsed.version == "01/12/2026"
    person, company = parsed.entries
    assert person.source_id == "14001"
    assert [n["name"] for n in person.names] == [
        "Dmitri Sergeevich PETROV",
        "Дмитрий Сергеевич Петров",
        "Dmitry PETROV",
    ]
    assert person.birth_dates == ["1970"] and person.nationalities == ["RU"]
    assert company.entry_type == "entity"


def test_opensanctions_simple_csv_splits_multiple_values():
    parsed = parse_list("opensanctions", read("opensanctions.csv"))
    person, _, company = parsed.entries
    assert person.source_id == "Q12345"
    assert len(person.names) == 3 and person.birth_dates == ["1958-02-03"]
    assert company.nationalities == ["CO", "PE"] and company.entry_type == "entity"


@pytest.mark.parametrize(
    ("source", "content", "message"),
    [
        ("ofac_sdn", b"<sdnList><sdnEntry><uid>1</uid>", "Not well-formed XML"),
        ("ofac_sdn", read("eu.xml"), "Expected a <sdnList> document"),
        ("eu", read("ofac_sdn.xml"), "Expected a <export> document"),
        ("ofsi", b"a,b\n1,2\n", "no column Name 6"),
        (
            "opensanctions",
            b"id,schema,name,aliases,birth_date,countries\nX,Planet,Mars,,,\n",
            "schema",
        ),
        ("opensanctions", b"id,schema,name,aliases,birth_date,countries\n", "no entries"),
        ("un", b"", "empty"),
        (
            "ofac_sdn",
            b"<sdnList><sdnEntry><uid>7</uid><sdnType>Individual</sdnType></sdnEntry></sdnList>",
            "no name",
        ),
        ("nonsense", b"x", "Unknown list format"),
    ],
)
def test_malformed_files_are_refused_with_a_specific_reason(source, content, message):
    with pytest.raises(ListFormatError, match=message):
        parse_list(source, content)


def test_external_entities_are_not_resolved():
    billion = (
        b'<?xml version="1.0"?><!DOCTYPE sdnList [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<sdnList><sdnEntry><uid>1</uid><lastName>&x;</lastName><sdnType>Entity</sdnType>"
        b"</sdnEntry></sdnList>"
    )
    with pytest.raises(ListFormatError, match="no name"):
        parse_list("ofac_sdn", billion)
