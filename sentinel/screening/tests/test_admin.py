"""Uploading a list in the admin, and a second officer approving its removals."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rules.tests.factories import officer
from sentinel.screening.models import ListImport, ScreeningEntry

FIXTURES = Path(__file__).parent / "fixtures"
ADD = "/admin/screening/listimport/add/"
pytestmark = pytest.mark.django_db


def upload(client, content: bytes, source: str = "ofac_sdn"):
    return client.post(
        ADD,
        {
            "list_name": "OFAC SDN",
            "source": source,
            "kind": "sanctions",
            "file": SimpleUploadedFile("sdn.xml", content),
        },
    )


def test_an_officer_uploads_a_list_and_another_approves_its_removals(client):
    first, second = officer(), officer()
    client.force_login(first)
    full = (FIXTURES / "ofac_sdn.xml").read_bytes()
    assert upload(client, full).status_code == 302
    assert ScreeningEntry.objects.in_force().count() == 3

    shorter = full.split(b"  <sdnEntry>\n    <uid>10003</uid>")[0] + b"</sdnList>\n"
    assert upload(client, shorter).status_code == 302
    pending = ListImport.objects.get(removal_state="pending")
    approve = {"action": "approve_removals", "_selected_action": [pending.pk]}
    client.post("/admin/screening/listimport/", approve)
    assert ScreeningEntry.objects.in_force().count() == 3  # not by the one who imported

    client.force_login(second)
    client.post("/admin/screening/listimport/", approve)
    assert ScreeningEntry.objects.in_force().count() == 2


def test_a_file_in_the_wrong_format_is_refused_on_the_form(client):
    client.force_login(officer())
    response = upload(client, (FIXTURES / "eu.xml").read_bytes())
    assert response.status_code == 200
    assert "Nothing was imported: Expected a &lt;sdnList&gt; document" in response.content.decode()
    assert not ListImport.objects.exists()
