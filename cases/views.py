"""The queue and case pages: validate input, call one service, render. Nothing else.

Domain errors come back as the page with the message and the status an API would use: 409 for
a state that does not allow the action, 403 for a person who may not take it, 400 for bad input.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from sentinel.api.pagination import CursorPagination
from transactions.models import PartnerBank
from transactions.views import money_flow_hop_response

from . import downloads, selectors, services
from .filtersets import SAVED_VIEWS, CaseFilterSet, queue_parameters
from .forms import (
    AlertsForm,
    ApproveForm,
    AssignForm,
    AttachmentForm,
    BulkAssignForm,
    NoteForm,
    ProposeClosureForm,
    SarForm,
    SendBackForm,
    TagForm,
    TeamForm,
    VersionForm,
)
from .models import Case
from .permissions import Action, allowed_actions, can

PAGE_SIZE = 50
TIMEZONE_COOKIE = "tz"


def case_page(view: Callable) -> Callable:
    """Logged-in staff who may see cases, with times shown in their browser's time zone."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not can(request.user, Action.VIEW):
            raise PermissionDenied("You do not have permission to see cases.")
        try:
            timezone.activate(zoneinfo.ZoneInfo(request.COOKIES.get(TIMEZONE_COOKIE, "UTC")))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo("UTC"))
        try:
            return view(request, *args, **kwargs)
        finally:
            timezone.deactivate()

    return wrapper


# --- Queue -------------------------------------------------------------------------------------


@require_GET
@case_page
def case_queue(request: HttpRequest) -> HttpResponse:
    filterset = CaseFilterSet(
        queue_parameters(request.GET), queryset=selectors.cases_queue(), request=request
    )
    cases = filterset.qs if filterset.is_valid() else Case.objects.none()
    ordering = [*(cases.query.order_by or Case._meta.ordering), "id"]  # a stable page order
    page = Paginator(cases.order_by(*ordering), PAGE_SIZE).get_page(request.GET.get("page"))
    selectors.cases_with_alert_summary(page.object_list)
    context = {
        "filter": filterset,
        "page": page,
        "saved_views": SAVED_VIEWS,
        "view": request.GET.get("view", ""),
        "query": _query_without_page(request),
        "can": allowed_actions(request.user),
        "bulk_form": BulkAssignForm(auto_id="bulk-%s"),
    }
    return render(request, "cases/queue.html", context)


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_GET
@case_page
def case_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One queue row, for the live queue to swap in when the case changes."""
    case = get_object_or_404(selectors.cases_queue(), pk=pk)
    selectors.cases_with_alert_summary([case])
    context = {"case": case, "can": allowed_actions(request.user)}
    return render(request, "cases/_row.html", context)


@require_POST
@case_page
def case_claim_next(request: HttpRequest) -> HttpResponse:
    try:
        case = services.case_claim_next(actor=request.user)
    except services.CasePermissionError as error:
        raise PermissionDenied(error.message) from error
    if case is None:
        messages.info(request, "No unassigned open case is waiting.")
        return redirect("cases:queue")
    messages.success(request, f"You claimed case #{case.pk}.")
    return redirect("cases:detail", pk=case.pk)


@require_POST
@case_page
def case_bulk_assign(request: HttpRequest) -> HttpResponse:
    form = BulkAssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose cases and an investigator to assign them to.")
        return redirect(_back_to_queue(request))
    try:
        result = services.case_bulk_assign(
            case_ids=form.cleaned_data["cases"],
            assignee=form.cleaned_data["assignee"],
            actor=request.user,
        )
    except services.CasePermissionError as error:
        raise PermissionDenied(error.message) from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_back_to_queue(request))
    messages.success(request, f"Assigned {len(result.assigned)} case(s).")
    for message in result.skipped.values():
        messages.warning(request, message)
    return redirect(_back_to_queue(request))


def _back_to_queue(request: HttpRequest) -> str:
    query = request.POST.get("next_query", "")
    return f"/cases/?{query}" if query else "/cases/"


@require_POST
@case_page
def cases_from_alerts(request: HttpRequest) -> HttpResponse:
    """The alert queue's "open a case from these" (it lives here: alerts know no cases)."""
    form = AlertsForm(request.POST)
    back = _back_to_alert_queue(request)
    if not form.is_valid():
        messages.error(request, "Nothing was changed. Select the alerts to open a case from.")
        return redirect(back)
    try:
        result = services.cases_open_from_alerts(
            alert_ids=form.cleaned_data["alerts"], actor=request.user
        )
    except services.CasePermissionError as error:
        messages.error(request, f"Nothing was changed. {error.message}")
        return redirect(back)
    except ValidationError as error:
        messages.error(request, f"Nothing was changed. {' '.join(error.messages)}")
        return redirect(back)
    total = len(result.cases) + len(result.failed)
    cases = ", ".join(f"#{pk}" for pk in sorted(set(result.cases.values())))
    if result.cases:
        messages.success(request, f"{len(result.cases)} of {total} alert(s) now in case {cases}.")
    else:
        messages.warning(request, f"None of the {total} alert(s) could join a case.")
    for reason in result.failed.values():
        messages.error(request, reason)
    return redirect(back)


def _back_to_alert_queue(request: HttpRequest) -> str:
    query = QueryDict(request.POST.get("next_query", "")).urlencode()
    return f"/alerts/?{query}" if query else "/alerts/"


# --- Case page ---------------------------------------------------------------------------------


@require_GET
@case_page
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, pk)


def _detail(
    request: HttpRequest, pk: int, *, status: int = 200, error: str = "", forms=None
) -> HttpResponse:
    case = get_object_or_404(selectors.case_detail(), pk=pk)
    bound = forms or {}
    context = {
        "case": case,
        "subject": selectors.case_subject(case),
        "timeline": selectors.case_timeline(case),
        "transactions": selectors.case_transactions(case),
        "can": allowed_actions(request.user),
        "is_assignee": case.assignee_id == request.user.pk,
        "error": error,
        "forms": {
            name.replace("-", "_"): bound.get(name) or form()
            for name, (form, _, _) in ACTIONS.items()
        },
        "attachment_limit": settings.SENTINEL_ATTACHMENT_MAX_BYTES,
        "sar": selectors.case_sar(case),
        "linked_graph": selectors.case_linked_graph(case),
        "money_flow": selectors.case_money_flow(case),
        "rings": selectors.case_rings(case),
    }
    return render(request, "cases/detail.html", context, status=status)


@require_GET
@case_page
def case_money_flow_hop(request: HttpRequest, pk: int) -> HttpResponse:
    """The next hop of the case's money-flow view, among its partner's transactions."""
    case = get_object_or_404(Case.objects.select_related("partner"), pk=pk)
    return money_flow_hop_response(request, partner=case.partner)


def _version(data: dict) -> dict:
    return {"expected_version": data.get("version")}


# name -> (form, service call, message on success)
ACTIONS: dict[str, tuple[type, Callable, str]] = {
    "claim": (
        VersionForm,
        lambda case, user, data: services.case_claim(case=case, actor=user, **_version(data)),
        "You claimed the case.",
    ),
    "start": (
        VersionForm,
        lambda case, user, data: services.case_start(case=case, actor=user, **_version(data)),
        "Investigation started.",
    ),
    "assign": (
        AssignForm,
        lambda case, user, data: services.case_assign(
            case=case, assignee=data["assignee"], actor=user, **_version(data)
        ),
        "Assignment saved.",
    ),
    "team": (
        TeamForm,
        lambda case, user, data: services.case_set_team(
            case=case, team=data["team"], actor=user, **_version(data)
        ),
        "Team saved.",
    ),
    "note": (
        NoteForm,
        lambda case, user, data: services.case_add_note(
            case=case, actor=user, body=data["body"], **_version(data)
        ),
        "Note added.",
    ),
    "attach": (
        AttachmentForm,
        lambda case, user, data: services.case_add_attachment(
            case=case, actor=user, upload=data["file"]
        ),
        "File attached.",
    ),
    "tag": (
        TagForm,
        lambda case, user, data: services.case_tag(
            case=case, actor=user, add=data["add"], remove=data["remove"], **_version(data)
        ),
        "Tags saved.",
    ),
    "propose-closure": (
        ProposeClosureForm,
        lambda case, user, data: services.case_propose_closure(
            case=case,
            actor=user,
            disposition=data["disposition"],
            reason=data["reason"],
            **_version(data),
        ),
        "Closure recorded.",
    ),
    "approve": (
        ApproveForm,
        lambda case, user, data: services.case_approve_closure(
            case=case,
            actor=user,
            comment=data["comment"],
            sar_sha256=data["sar_sha256"] or None,
            **_version(data),
        ),
        "Closure approved: the case is closed.",
    ),
    "send-back": (
        SendBackForm,
        lambda case, user, data: services.case_send_back(
            case=case, actor=user, comment=data["comment"], **_version(data)
        ),
        "Closure sent back to the investigator.",
    ),
    "sar-draft": (
        VersionForm,
        lambda case, user, data: services.sar_draft(case=case, actor=user),
        "Report drafted from the case: write the narrative, then export.",
    ),
    "sar-edit": (
        SarForm,
        lambda case, user, data: services.sar_edit(
            case=case,
            actor=user,
            reason=data["reason"],
            action=data["action"],
            indicators=data["indicators"],
            **_version(data),
        ),
        "Report saved.",
    ),
    "sar-export": (
        VersionForm,
        lambda case, user, data: services.sar_export(case=case, actor=user),
        "Report exported: XML, JSON and PDF stored with the case, hashes in its history.",
    ),
}


@require_POST
@case_page
def case_action(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    if name not in ACTIONS:
        raise Http404("No such action.")
    form_class, call, done = ACTIONS[name]
    case = get_object_or_404(Case, pk=pk)
    form = form_class(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, pk, status=400, error=_first(form), forms={name: form})
    try:
        call(case, request.user, form.cleaned_data)
    except services.CaseStateError as error:
        return _detail(request, pk, status=409, error=error.message)
    except services.CasePermissionError as error:
        return _detail(request, pk, status=403, error=error.message)
    except ValidationError as error:
        return _detail(request, pk, status=400, error=" ".join(error.messages))
    messages.success(request, done)
    return redirect("cases:detail", pk=pk)


def _first(form) -> str:
    return next((f"{e}" for errors in form.errors.values() for e in errors), "Invalid input.")


@require_GET
@case_page
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    """Evidence files leave only through here, to people who may see the case."""
    return downloads.attachment_download(case_id=pk, attachment_id=attachment_id)


@require_GET
@case_page
def sar_download(request: HttpRequest, pk: int, file_id: int) -> FileResponse:
    """Exported reports leave only through here, to people who may see the case."""
    return downloads.sar_file_download(case_id=pk, file_id=file_id)


# --- Account page ------------------------------------------------------------------------------


class AccountTransactionPages(CursorPagination):
    """Keyset pages of an account's transactions, newest first, 50 a page."""

    ordering = ("-occurred_at", "-id")
    page_size_query_param = None


@require_GET
@case_page
def account_detail(request: HttpRequest, partner_id: int, external_id: str) -> HttpResponse:
    """One account of one partner: its profile, transactions, alerts, cases and rings."""
    if not request.user.has_perm("alerts.view_alert"):
        raise PermissionDenied("You do not have permission to see alerts.")
    partner = get_object_or_404(PartnerBank, pk=partner_id)
    page = selectors.account_page(partner=partner, external_id=external_id)
    if page is None:
        raise Http404(f"{partner.name} has no account {external_id!r}.")
    pages = AccountTransactionPages()
    query = selectors.account_transactions(partner=partner, external_id=external_id)
    try:
        transactions, error = pages.paginate_queryset(query, Request(request)), ""
    except APIException as problem:  # a cursor altered, or carried from another page
        transactions, error, pages = [], f"cursor: {problem.detail}", None
    context = {
        "page": page,
        "transactions": transactions,
        "next_url": pages and pages.get_next_link(),
        "previous_url": pages and pages.get_previous_link(),
        "error": error,
    }
    return render(request, "cases/account.html", context, status=400 if error else 200)
