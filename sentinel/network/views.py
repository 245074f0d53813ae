"""The detector parameters' actions (ask for a version in force, roll back, approve, reject,
withdraw, back-test): staff pages under the admin (urls.py). Each validates its input, calls
one governance service (which checks who may) and goes back to the version's page, or to the
back-test's."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from . import governance, selectors
from .forms import ParameterBacktestForm, ParameterDecisionForm
from .models import ParameterChange, ParameterVersion

VIEW_PERMISSION = "network.view_parameterversion"

_DECISIONS = {
    "approve": ("approved", governance.parameter_change_approve),
    "reject": ("rejected", governance.parameter_change_reject),
    "withdraw": ("withdrawn", governance.parameter_change_withdraw),
}


@require_POST
def parameter_request(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(ParameterVersion, pk=version_id)
    comment = _comment(request)
    if comment is not None and _done(
        request,
        governance.parameter_change_request,
        version=version,
        actor=request.user,
        comment=comment,
    ):
        messages.warning(
            request,
            f"Asked for version {version.number}: it is put in force when another compliance "
            "officer approves.",
        )
    return redirect("admin:network_parameterversion_change", version.pk)


@require_POST
def parameter_rollback(request: HttpRequest) -> HttpResponse:
    comment = _comment(request)
    change = None
    if comment is not None:
        change = _done(
            request, governance.parameter_rollback_request, actor=request.user, comment=comment
        )
    if change is None:
        return redirect("admin:network_parameterversion_changelist")
    messages.warning(request, f"Asked to {change.summary}: another officer must approve.")
    return redirect("admin:network_parameterversion_change", change.version_id)


@require_POST
def parameter_decide(request: HttpRequest, change_id: int, decision: str) -> HttpResponse:
    """Approve, reject or withdraw the pending request (the service checks who may)."""
    change = get_object_or_404(ParameterChange, pk=change_id)
    if decision not in _DECISIONS:
        return HttpResponseBadRequest(
            f"Unknown decision {decision!r}: approve, reject or withdraw.".encode()
        )
    comment = _comment(request)
    done, service = _DECISIONS[decision]
    arguments = (
        {"actor": request.user}
        if decision == "withdraw"
        else {
            "approver": request.user,
            "comment": comment,
        }
    )
    if comment is not None and _done(request, service, change=change, **arguments):
        messages.success(request, f"Request {done}.")
    return redirect("admin:network_parameterversion_change", change.version_id)


def parameter_backtest(request: HttpRequest, version_id: int) -> HttpResponse:
    """The form to back-test a version (GET), and its start (POST: the service checks)."""
    _require(request, VIEW_PERMISSION)
    version = get_object_or_404(ParameterVersion, pk=version_id)
    form = ParameterBacktestForm(request.POST or None)
    if request.method == "POST":
        _require(request, governance.BACKTEST_PERMISSION)
        if form.is_valid():
            try:
                backtest = governance.parameter_backtest_request(
                    version=version, actor=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("admin:network_parameters_backtest_detail", backtest.pk)
    return _page(
        request,
        "admin/network/parameter_backtest.html",
        f"Back-test network parameters v{version.number}",
        version=version,
        in_force=selectors.parameters_in_force(),
        form=form,
        status=400 if form.errors else 200,
    )


def parameter_backtest_detail(request: HttpRequest, backtest_id: int) -> HttpResponse:
    _require(request, VIEW_PERMISSION)
    backtest = selectors.parameter_backtest_get(backtest_id=backtest_id)
    return _page(
        request,
        "admin/network/parameter_backtest_detail.html",
        f"Back-test #{backtest.pk}",
        backtest=backtest,
        version=backtest.version,
    )


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied("You do not have permission to do this.")


def _page(request: HttpRequest, template: str, title: str, status: int = 200, **context):
    """A page inside the admin's frame (header, breadcrumbs, sidebar)."""
    return TemplateResponse(
        request,
        template,
        {
            **admin.site.each_context(request),
            "opts": ParameterVersion._meta,
            "title": title,
            **context,
        },
        status=status,
    )


def _comment(request: HttpRequest) -> str | None:
    form = ParameterDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("comment", ["Invalid comment."])))
        return None
    return form.cleaned_data["comment"]


def _done(request: HttpRequest, service, **arguments):
    """The service's result, or None with its refusal shown to the officer."""
    try:
        return service(**arguments)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        messages.error(request, str(error))
    return None
