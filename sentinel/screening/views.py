"""``/screening/party/?name=…&country=…``: a party against the lists in force, each match
explained, and the investigator's "not this person" with its second person's approval.

Linked from the alert page for list-hit alerts (each party of its transactions) and for alerts
raised by continuous screening (the party found). Reading needs
``screening.view_screeningmatch`` (every role); asking for a false positive
``screening.add_falsepositive``; approving ``screening.approve_falsepositive``, and another
person than the one who asked (services and the database both refuse self-approval).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .features import reasons
from .forms import FalsePositiveForm, PartyForm, WatchListForm
from .matching.index import Party, party_key
from .models import FalsePositive, ScreeningEntry
from .runtime import current_index

VIEW = "screening.view_screeningmatch"
ASK = "screening.add_falsepositive"


@require_http_methods(["GET"])
@login_required
def party_screen(request):
    if not request.user.has_perm(VIEW):
        raise PermissionDenied
    form = PartyForm(request.GET or None)  # the bare page: the form, nothing screened yet
    context: dict = {"form": form, "can_ask": request.user.has_perm(ASK)}
    if form.is_valid():
        name, country = form.cleaned_data["name"], form.cleaned_data["country"]
        matches = current_index().screen(Party(name, country=country))
        entries = ScreeningEntry.objects.select_related("screening_list").in_bulk(
            [match.entry_id for match in matches]
        )
        context |= {
            "name": name,
            "country": country,
            "matches": [
                {"match": m, "entry": entries.get(m.entry_id), "reasons": reasons(m)}
                for m in matches
            ],
            "decisions": FalsePositive.objects.filter(party_key=party_key(name, country))
            .select_related("entry__screening_list", "requested_by", "approved_by")
            .order_by("-requested_at"),
            "reason_form": FalsePositiveForm(),
            "can_approve": request.user.has_perm(services.APPROVE_FALSE_POSITIVE),
            "can_watch": request.user.has_perm(services.WATCH_PERMISSION),
            "name_lists": services.watch_lists(),
        }
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "screening/party.html", context, status=status)


@require_POST
@login_required
def false_positive_ask(request, entry_id: int):
    if not request.user.has_perm(ASK):
        raise PermissionDenied
    entry = get_object_or_404(ScreeningEntry, pk=entry_id)
    party = PartyForm(request.POST)
    form = FalsePositiveForm(request.POST)
    if not (party.is_valid() and form.is_valid()):
        messages.error(request, "Give the party's name and say why it is not the listed one.")
        return redirect(_party_url(request.POST.get("name", ""), request.POST.get("country", "")))
    name, country = party.cleaned_data["name"], party.cleaned_data["country"]
    try:
        services.false_positive_request(
            entry=entry,
            party_name=name,
            party_country=country,
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"Asked: {name} is not {entry}. It takes effect once another person approves it.",
        )
    return redirect(_party_url(name, country))


@require_POST
@login_required
def false_positive_approve(request, decision_id: int):
    decision = get_object_or_404(FalsePositive, pk=decision_id)
    try:
        services.false_positive_approve(decision=decision, approver=request.user)
    except (PermissionDenied, ValidationError) as error:
        text = error.messages if isinstance(error, ValidationError) else [str(error)]
        messages.error(request, " ".join(text))
    else:
        messages.success(request, f"Approved: {decision.party_name} no longer matches this entry.")
    country = decision.party_key.rpartition("|")[2]
    return redirect(_party_url(decision.party_name, country))


@require_POST
@login_required
def true_match(request, entry_id: int):
    """ "This is the listed one": the party onto a name list of the rule engine."""
    entry = get_object_or_404(ScreeningEntry.objects.select_related("screening_list"), pk=entry_id)
    party = PartyForm(request.POST)
    chosen = WatchListForm(request.POST)
    if not (party.is_valid() and chosen.is_valid()):
        messages.error(request, "Give the party's name and choose a list of names.")
        return redirect(_party_url(request.POST.get("name", ""), request.POST.get("country", "")))
    rule_list = chosen.cleaned_data["rule_list"]
    name, country = party.cleaned_data["name"], party.cleaned_data["country"]
    try:
        change = services.true_match_watch(
            entry=entry, party_name=name, rule_list=rule_list, actor=request.user
        )
    except (PermissionDenied, ValidationError) as error:
        text = error.messages if isinstance(error, ValidationError) else [str(error)]
        messages.error(request, " ".join(text))
    else:
        waits = " once a second officer approves it" if change else ""
        messages.success(request, f"{name} goes on the list {rule_list.name}{waits}.")
    return redirect(_party_url(name, country))


def _party_url(name: str, country: str) -> str:
    query = urlencode({"name": name, **({"country": country} if country else {})})
    return f"{reverse('screening:party')}?{query}"
