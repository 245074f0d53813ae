"""The alert queue and the alert page: what fired and why, its history, and the
investigator's actions.

Plain forms posting to small views that call the services, so it works without JavaScript;
the services check permissions and states, the views only report their answers.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from rules.choices import Severity, Typology
from sentinel.api.pagination import CursorPagination
from transactions.views import money_flow_hop_response

from . import selectors, services
from .choices import OPEN_STATUSES, AlertStatus
from .filtersets import AGE_CHOICES, AlertFilterSet
from .forms import BulkActionForm, DismissForm, SavedViewForm, SnoozeForm
from .models import Alert, AlertQueueView, Snooze

VIEW = "alerts.view_alert"
QUEUE_PAGE_SIZE = 50


# --- Queue -------------------------------------------------------------------------------------


class QueuePages(CursorPagination):
    """The API's keyset pages, on the sort the queue's reader chose; 50 rows a page."""

    page_size = QUEUE_PAGE_SIZE
    page_size_query_param = None

    def __init__(self, ordering: tuple[str, ...]):
        self.ordering = ordering


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def alert_queue(request: HttpRequest) -> HttpResponse:
    parameters = queue_parameters(request.GET)
    filterset = AlertFilterSet(parameters, queryset=selectors.alerts_queue(), request=request)
    sort = request.GET.get("sort") or "priority"
    problems = [f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()]
    if sort not in selectors.QUEUE_SORTS:
        problems.append(f"sort: {sort[:40]!r} is not one of {', '.join(selectors.QUEUE_SORTS)}.")
    alerts, pages = [], None
    if not problems:
        pages = QueuePages(selectors.QUEUE_SORTS[sort][1])
        try:
            alerts = pages.paginate_queryset(filterset.qs, Request(request))
        except APIException as error:  # a cursor altered, or carried to another sort
            problems.append(f"cursor: {error.detail}")
            pages = None
    context = _queue_context(request, parameters, sort, problems)
    context.update(
        alerts=alerts,
        next_url=pages and pages.get_next_link(),
        previous_url=pages and pages.get_previous_link(),
    )
    return render(request, "alerts/queue.html", context)


def queue_parameters(query: QueryDict) -> QueryDict:
    """The queue's filters: open alerts (new and acknowledged) unless statuses are chosen."""
    parameters = query.copy()
    if not [status for status in parameters.getlist("status") if status]:
        parameters.setlist("status", [str(status) for status in OPEN_STATUSES])
    return parameters


def _queue_context(request: HttpRequest, parameters: QueryDict, sort: str, problems: list) -> dict:
    severities, statuses = parameters.getlist("severity"), parameters.getlist("status")
    severity_counts = status_counts = None
    if not problems:
        others = parameters.copy()
        others.pop("severity", None)
        others.pop("status", None)
        faceted = AlertFilterSet(others, queryset=Alert.objects.all(), request=request).qs
        severity_counts, status_counts = selectors.alert_queue_counts(
            faceted, severities=severities, statuses=statuses
        )
    query = request.GET.copy()
    query.pop("cursor", None)
    user = request.user
    return {
        "problems": problems,
        "sort": sort,
        "sorts": [(name, label) for name, (label, _) in selectors.QUEUE_SORTS.items()],
        "chosen": {name: parameters.get(name, "") for name in _TEXT_FILTERS},
        "severities": _facet(Severity.choices, severities, severity_counts),
        "statuses": _facet(AlertStatus.choices, statuses, status_counts),
        "typologies": Typology.choices,
        "ages": AGE_CHOICES,
        "query": query.urlencode(),
        "saved_views": selectors.alert_queue_views(user=user),
        "bulk_form": BulkActionForm(auto_id="bulk-%s"),
        "view_form": SavedViewForm(auto_id="view-%s"),
        "can_change": user.has_perm("alerts.change_alert"),
        "can_snooze": user.has_perm("alerts.add_snooze"),
        "can_open_case": user.has_perm("cases.work_case"),
    }


_TEXT_FILTERS = ("partner", "rule", "subject", "typology", "assignee", "age")


def _facet(choices, chosen: list[str], counts: dict[str, int] | None) -> list[dict]:
    return [
        {
            "value": value,
            "label": label,
            "checked": value in chosen,
            "count": None if counts is None else counts.get(value, 0),
        }
        for value, label in choices
    ]


@login_required
@require_POST
def alerts_bulk(request: HttpRequest) -> HttpResponse:
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(e)}" for name, e in form.errors.items())
        messages.error(request, f"Nothing was changed. {problems}")
        return redirect(_back_to_queue(request))
    data, ids = form.cleaned_data, form.cleaned_data["alerts"]
    try:
        if data["action"] == "acknowledge":
            result = services.alerts_bulk_acknowledge(alert_ids=ids, actor=request.user)
        elif data["action"] == "dismiss":
            result = services.alerts_bulk_dismiss(
                alert_ids=ids, actor=request.user, reason=data["reason"]
            )
        else:
            result = services.alerts_bulk_snooze(
                alert_ids=ids, actor=request.user, days=data["days"], comment=data["comment"]
            )
    except PermissionDenied as error:
        messages.error(request, f"Nothing was changed. {error}")
    except ValidationError as error:
        messages.error(request, f"Nothing was changed. {' '.join(error.messages)}")
    else:
        report_bulk(request, _DONE[data["action"]], result)
    return redirect(_back_to_queue(request))


_DONE = {"acknowledge": "Acknowledged", "dismiss": "Dismissed", "snooze": "Snoozed"}


def report_bulk(request: HttpRequest, done: str, result: services.BulkResult) -> None:
    """'<Done> n of m alerts.', then one line per reason the others were refused."""
    total = len(result.done) + len(result.failed)
    level = messages.success if result.done else messages.warning
    level(request, f"{done} {len(result.done)} of {total} alert(s).")
    if result.awaiting_approval:
        messages.info(
            request,
            "Snoozes over 30 days take effect once another senior investigator or compliance "
            "officer approves them.",
        )
    reasons: dict[str, list[int]] = {}
    for pk, reason in result.failed.items():
        reasons.setdefault(reason, []).append(pk)
    for reason, pks in reasons.items():
        numbers = ", ".join(f"#{pk}" for pk in pks)
        messages.error(request, f"Not {done.lower()}: {numbers}. {reason}")


def _back_to_queue(request: HttpRequest) -> str:
    query = request.POST.get("next_query", "")
    return f"/alerts/?{QueryDict(query).urlencode()}" if query else "/alerts/"


@login_required
@require_POST
def queue_view_save(request: HttpRequest) -> HttpResponse:
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not saved. {' '.join(form.errors.get('name', ['Bad input.']))}")
        return redirect(_back_to_queue(request))
    _run(
        request,
        f"Saved the view {form.cleaned_data['name']!r}.",
        services.alert_queue_view_save,
        user=request.user,
        name=form.cleaned_data["name"],
        query=form.cleaned_data["query"],
    )
    return redirect(_back_to_queue(request))


@login_required
@require_POST
def queue_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    # Another person's view is as absent as one that does not exist.
    view = get_object_or_404(AlertQueueView, pk=pk, user=request.user)
    services.alert_queue_view_delete(view=view, user=request.user)
    messages.success(request, f"Deleted the view {view.name!r}.")
    return redirect(_back_to_queue(request))


# --- Alert page --------------------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
def alert_detail(request, pk: int):
    alert = get_object_or_404(selectors.alerts_detail(), pk=pk)
    context = {
        "alert": alert,
        "dismiss_form": DismissForm(),
        "snooze_form": SnoozeForm(),
        "snoozes": selectors.snoozes_list().filter(
            rule=alert.rule, partner=alert.partner, account_external_id=alert.account_external_id
        )[:10],
        "can_change": request.user.has_perm("alerts.change_alert"),
        "can_snooze": request.user.has_perm("alerts.add_snooze"),
        "can_approve_snooze": request.user.has_perm("alerts.approve_snooze"),
        "money_flow": selectors.alert_money_flow(alert),
        "list_parties": selectors.alert_list_parties(alert),
    }
    return render(request, "alerts/detail.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def alert_money_flow_hop(request: HttpRequest, pk: int) -> HttpResponse:
    """The next hop of the alert's money-flow view, among its partner's transactions."""
    alert = get_object_or_404(Alert.objects.select_related("partner"), pk=pk)
    return money_flow_hop_response(request, partner=alert.partner)


@login_required
@require_POST
def alert_acknowledge(request, pk: int):
    alert = get_object_or_404(selectors.alerts_list(), pk=pk)
    _run(request, "Acknowledged.", services.alert_acknowledge, alert=alert, actor=request.user)
    return redirect("alerts:detail", pk=pk)


@login_required
@require_POST
def alert_dismiss(request, pk: int):
    alert = get_object_or_404(selectors.alerts_list(), pk=pk)
    form = DismissForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A reason of at most 2,000 characters is required to dismiss.")
    else:
        _run(
            request,
            "Dismissed.",
            services.alert_dismiss,
            alert=alert,
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    return redirect("alerts:detail", pk=pk)


@login_required
@require_POST
def alert_snooze(request, pk: int):
    alert = get_object_or_404(selectors.alerts_list(), pk=pk)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(e)}" for name, e in form.errors.items())
        messages.error(request, f"Not snoozed. {problems}")
    else:
        _run(
            request,
            f"{alert.rule.code} snoozed on {alert.account_external_id} for "
            f"{form.cleaned_data['days']} days.",
            services.snooze_create,
            rule=alert.rule,
            partner=alert.partner,
            account_external_id=alert.account_external_id,
            ends_at=timezone.now() + timedelta(days=form.cleaned_data["days"]),
            comment=form.cleaned_data["comment"],
            actor=request.user,
        )
    return redirect("alerts:detail", pk=pk)


@login_required
@require_POST
def snooze_lift(request, pk: int):
    snooze = get_object_or_404(Snooze, pk=pk)
    _run(
        request,
        "Snooze lifted.",
        services.snooze_lift,
        snooze=snooze,
        actor=request.user,
        comment=request.POST.get("comment", ""),
    )
    return redirect(_safe_next(request) or "home")


def _safe_next(request) -> str | None:
    """The form's ``next`` if it stays on this site; an open redirect otherwise (a crafted
    form could send a logged-in investigator anywhere, e.g. a look-alike login page)."""
    target = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else None


@login_required
@require_POST
def snooze_approve(request, pk: int):
    snooze = get_object_or_404(Snooze, pk=pk)
    _run(
        request,
        "Snooze approved: it is in force.",
        services.snooze_approve,
        snooze=snooze,
        actor=request.user,
    )
    alert = (
        selectors.alerts_list()
        .filter(
            rule=snooze.rule_id,
            partner=snooze.partner_id,
            account_external_id=snooze.account_external_id,
        )
        .first()
    )
    return redirect("alerts:detail", pk=alert.pk) if alert else redirect("home")


def _run(request, done: str, service, **arguments) -> None:
    """Call the service; its answer, good or bad, becomes the message on the next page."""
    try:
        service(**arguments)
    except PermissionDenied as error:
        messages.error(request, str(error) or "You may not do this.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
