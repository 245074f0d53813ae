"""Staff API tokens: shown once, stored as a digest, expiring, revocable."""

from __future__ import annotations

import importlib
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from sentinel.accounts.models import ApiToken
from sentinel.accounts.services import api_token_create, api_token_revoke

from . import factories as f

pytestmark = pytest.mark.django_db
URL = "/api/v1/alerts/"


def _script(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_a_new_token_works_for_thirty_days_and_notes_its_use():
    # Given a token made for an investigator
    user = f.investigator()
    token, secret = api_token_create(user=user, name="nightly export")

    # When a script calls the staff API with it
    response = _script(secret).get(URL)

    # Then it is served as that user, and the token records the use
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.expires_at - token.created_at == timedelta(days=30)


def test_the_secret_is_not_in_the_database():
    token, secret = api_token_create(user=f.investigator(), name="x")

    stored = json.dumps(list(ApiToken.objects.filter(pk=token.pk).values()), default=str)
    assert secret not in stored
    assert secret[:8] in stored  # the prefix that tells tokens apart
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        assert secret not in json.dumps(cursor.fetchall(), default=str)


def test_an_expired_token_is_refused():
    token, secret = api_token_create(user=f.investigator(), name="x")
    ApiToken.objects.filter(pk=token.pk).update(
        created_at=timezone.now() - timedelta(days=31),
        expires_at=timezone.now() - timedelta(seconds=1),
    )

    response = _script(secret).get(URL)

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid, expired or revoked token."


def test_a_revoked_token_is_refused_at_once():
    token, secret = api_token_create(user=f.investigator(), name="x")
    assert _script(secret).get(URL).status_code == 200

    api_token_revoke(token=token)

    assert _script(secret).get(URL).status_code == 401


def test_a_token_of_a_deactivated_user_or_a_made_up_one_is_refused():
    user = f.investigator()
    _, secret = api_token_create(user=user, name="x")
    user.is_active = False
    user.save()

    assert _script(secret).get(URL).status_code == 401
    assert _script("not-a-token").get(URL).status_code == 401


def test_a_token_must_live_for_some_time():
    with pytest.raises(ValidationError):
        api_token_create(user=f.investigator(), name="x", lifetime=timedelta(0))
    assert not ApiToken.objects.exists()


def test_the_command_prints_the_secret_once_and_refuses_unknown_users():
    user = f.investigator("ines")
    out = StringIO()

    call_command("create_api_token", "ines", "--days", "7", stdout=out)

    printed = json.loads(out.getvalue())
    token = ApiToken.objects.get(user=user)
    assert token.expires_at - token.created_at == timedelta(days=7)
    assert _script(printed["token"]).get(URL).status_code == 200
    with pytest.raises(CommandError, match="No active staff user called 'nobody'"):
        call_command("create_api_token", "nobody")


def test_drf_create_token_answers_as_drf_did_and_reset_revokes_the_others():
    # Given a script written against DRF's command, for an investigator with a token already
    user = f.investigator("ines")
    _, old = api_token_create(user=user, name="old script")
    out = StringIO()

    # When it asks for a token, as DRF's command is called
    call_command("drf_create_token", "ines", stdout=out)

    # Then the line reads as DRF's did, and the key works (the older one too, without -r)
    generated, token, key, for_, user_, username = out.getvalue().strip().split(" ")
    assert (generated, token, for_, user_, username) == (
        "Generated",
        "token",
        "for",
        "user",
        "ines",
    )
    assert _script(key).get(URL).status_code == 200
    assert _script(old).get(URL).status_code == 200

    # And with -r the others stop working
    call_command("drf_create_token", "-r", "ines", stdout=StringIO())
    assert _script(key).get(URL).status_code == 401
    assert _script(old).get(URL).status_code == 401
    with pytest.raises(CommandError, match="No active staff user"):
        call_command("drf_create_token", "nobody")


def test_a_superuser_issues_a_token_in_the_admin_and_sees_the_secret_once():
    root, user = f.superuser(), f.investigator("ines")
    client = Client()
    client.force_login(root)
    expires = timezone.now() + timedelta(days=3)

    response = client.post(
        "/admin/accounts/apitoken/add/",
        {
            "user": user.pk,
            "name": "report script",
            "expires_at_0": expires.strftime("%Y-%m-%d"),
            "expires_at_1": expires.strftime("%H:%M:%S"),
        },
        follow=True,
    )

    token = ApiToken.objects.get(user=user)
    message = next(str(m) for m in response.context["messages"])
    secret = message.split("is ")[1].split(" ")[0]
    assert _script(secret).get(URL).status_code == 200
    assert secret not in client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()


def test_an_administrator_cannot_issue_tokens():
    client = Client()
    client.force_login(f.administrator())
    assert client.get("/admin/accounts/apitoken/add/").status_code == 403


def test_old_plaintext_drf_tokens_are_carried_over_hashed_and_expiring():
    # Given the table DRF's authtoken app left, with one plain-text key
    user = f.investigator()
    key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamptz NOT NULL, user_id integer NOT NULL UNIQUE)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, now() - interval '400 days', %s)",
            [key, user.pk],
        )

    # When the data migration runs
    migration = importlib.import_module("sentinel.accounts.migrations.0002_carry_drf_tokens")
    with connection.schema_editor() as editor:
        migration.carry_tokens(apps, editor)

    # Then the same key works as a hashed token that expires, and no plain text is left
    token = ApiToken.objects.get(user=user)
    assert token.digest != key and token.prefix == key[:8]
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert _script(key).get(URL).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)
