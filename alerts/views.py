"""The alert page: what fired and why, its history, and the investigator's actions.

Plain forms posting to small views that call the services, so it works without JavaScript;
the services check permissions and states, the views only report their answers.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import DismissForm, SnoozeForm
from .models import Snooze

VIEW = "alerts.view_alert"


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
    }
    return render(request, "alerts/detail.html", context)


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
