"""``/models/``: the learned risk score's versions, one version's report, drift and changes, and
the four-eyes steps as forms (docs/models.md § Governance).

Reading needs ``riskmodel.view_modelversion`` (every staff role). The steps are the admin's:
each calls one service of services/governance.py, which checks who may act (asking and
rolling back: ``riskmodel.change_modelversion``; approving and rejecting:
``riskmodel.approve_modelchange``, never the asker nor the trainer); a refusal comes back as
a message on the page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services
from .forms import ModelChangeCommentForm
from .models import ModelChange
from .services.governance import APPROVE_PERMISSION, REQUEST_PERMISSION

VIEW = "riskmodel.view_modelversion"
LISTED = 100  # versions on the list page: about two years of weekly training


@require_GET
@login_required
def version_list(request):
    _require_view(request.user)
    context = {
        "versions": selectors.versions()[:LISTED],
        "live": selectors.version_live_page(),
        **_governance(request.user, selectors.change_pending_page()),
    }
    return render(request, "riskmodel/versions.html", context)


@require_GET
@login_required
def version_detail(request, number: int):
    _require_view(request.user)
    version = selectors.version_page(number=number)
    if version is None:
        raise Http404("No such model version.")
    context = {
        "version": version,
        "report": selectors.version_report(version=version),
        "drifts": selectors.drifts_of(version=version),
        "changes": selectors.changes_of(version=version),
        **_governance(request.user, selectors.change_pending_page()),
    }
    return render(request, "riskmodel/version.html", context)


@require_POST
@login_required
def version_request_live(request, number: int):
    version = get_object_or_404(selectors.versions(), number=number)
    _act(
        request,
        lambda comment: services.model_live_request(
            version=version, actor=request.user, comment=comment
        ),
        done=f"Model v{number} awaits a second compliance officer's approval.",
    )
    return redirect("riskmodel:version", number=number)


@require_POST
@login_required
def change_approve(request, change_id: int):
    change = _change(change_id)
    _act(
        request,
        lambda comment: services.model_change_approve(
            change=change, approver=request.user, comment=comment
        ),
        done=f"Approved: model v{change.model_version.number} is live.",
    )
    return redirect("riskmodel:version", number=change.model_version.number)


@require_POST
@login_required
def change_reject(request, change_id: int):
    change = _change(change_id)
    _act(
        request,
        lambda comment: services.model_change_reject(
            change=change, approver=request.user, comment=comment
        ),
        done=f"Rejected: model v{change.model_version.number} stays where it was.",
    )
    return redirect("riskmodel:version", number=change.model_version.number)


@require_POST
@login_required
def change_withdraw(request, change_id: int):
    change = _change(change_id)
    _act(
        request,
        lambda comment: services.model_change_withdraw(change=change, actor=request.user),
        done="Withdrawn.",
    )
    return redirect("riskmodel:version", number=change.model_version.number)


@require_POST
@login_required
def model_roll_back(request):
    _act(
        request,
        lambda comment: services.model_rollback(actor=request.user, comment=comment),
        done="Rolled back: the version live before it is live again (or none is).",
    )
    return redirect("riskmodel:versions")


def _require_view(user) -> None:
    if not user.has_perm(VIEW):
        raise PermissionDenied


def _change(change_id: int) -> ModelChange:
    return get_object_or_404(ModelChange.objects.select_related("model_version"), pk=change_id)


def _governance(user, pending: ModelChange | None) -> dict:
    """What the page offers this user; the services decide again on every step."""
    refusal = pending and services.model_change_refusal(change=pending, approver=user)
    return {
        "pending": pending,
        "approval_refusal": refusal,
        "can_request": user.has_perm(REQUEST_PERMISSION),
        "can_approve": user.has_perm(APPROVE_PERMISSION),
        "comment_form": ModelChangeCommentForm(),
    }


def _act(request, step: Callable[[str], object], *, done: str) -> None:
    """Run one governance step with the form's comment; its refusal becomes the message."""
    form = ModelChangeCommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A comment is at most 2,000 characters; nothing was done.")
        return
    try:
        step(form.cleaned_data["comment"])
    except (PermissionDenied, ValidationError) as error:
        text = error.messages if isinstance(error, ValidationError) else [str(error)]
        messages.error(request, " ".join(text))
    else:
        messages.success(request, done)
