"""The compliance officer's rule pages: check, move, approve, restore, try, back-test, import.

They are staff pages shown in the admin's look (rules.urls mounts them under /admin/ through
RuleAdmin and RuleListAdmin); each validates its input, calls one service and redirects or
renders. The permissions they check are in rules.permissions.
"""

from __future__ import annotations

import csv
import io

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from . import selectors, services
from .choices import ChangeKind, ChangeState, RuleStatus
from .expressions import ExpressionError, compile_expression
from .forms import BacktestForm, DecisionForm, ListImportForm, StatusChangeForm, TryForm
from .models import Rule, RuleChange, RuleList, RuleVersion
from .permissions import CHANGE_LISTS, CHANGE_RULES, RUN_BACKTESTS, VIEW_LISTS, VIEW_RULES, require


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _page(request: HttpRequest, template: str, title: str, opts, **context) -> TemplateResponse:
    """A page inside the admin's frame (header, breadcrumbs, sidebar)."""
    return TemplateResponse(
        request,
        template,
        {**admin.site.each_context(request), "opts": opts, "title": title, **context},
    )


def rule_status_moves(rule: Rule) -> list[tuple[str, str]]:
    """Buttons for the status moves open to this rule: (target status, label)."""
    labels = {
        RuleStatus.SHADOW: "Run in shadow",
        RuleStatus.LIVE: "Request go-live",
        RuleStatus.PAUSED: "Pause",
        RuleStatus.DRAFT: "Back to draft",
    }
    allowed = {
        RuleStatus.DRAFT: [RuleStatus.SHADOW, RuleStatus.LIVE],
        RuleStatus.SHADOW: [RuleStatus.LIVE, RuleStatus.PAUSED, RuleStatus.DRAFT],
        RuleStatus.LIVE: [RuleStatus.PAUSED, RuleStatus.SHADOW],
        RuleStatus.PAUSED: [RuleStatus.LIVE, RuleStatus.SHADOW, RuleStatus.DRAFT],
    }[rule.status]
    if rule.status == RuleStatus.LIVE:
        labels = {RuleStatus.PAUSED: "Request pause", RuleStatus.SHADOW: "Request shadow"}
    return [(status, labels[status]) for status in allowed]


def rule_page_context(request: HttpRequest, rule: Rule) -> dict:
    """What the rule's admin page shows under its form (RuleAdmin.change_view)."""
    workshop = selectors.rule_workshop(rule=rule)
    return {
        "rule": rule,
        **workshop,
        **_approval(request, workshop["pending_change"]),
        "status_moves": rule_status_moves(rule),
    }


def change_requests_context(request: HttpRequest, *, rule_list: RuleList | None = None) -> dict:
    """The pending request and the history shown on a list's page, or the thresholds' page."""
    kind = ChangeKind.LIST if rule_list is not None else ChangeKind.THRESHOLDS
    pending = selectors.change_pending(rule_list=rule_list, kind=kind)
    return {
        "pending_change": pending,
        "changes": selectors.changes_decided(rule_list=rule_list, kind=kind),
        **_approval(request, pending),
    }


def _approval(request: HttpRequest, pending: RuleChange | None) -> dict:
    refusal = None
    if pending is not None and pending.requested_by_id != request.user.pk:
        refusal = services.rule_change_refusal(change=pending, approver=request.user)
    return {
        "can_approve": request.user.has_perm(services.APPROVE_PERMISSION),
        "approval_refusal": refusal,
    }


# --- Rules -----------------------------------------------------------------------------------


@require_POST
def rule_validate(request: HttpRequest) -> JsonResponse:
    """Checks an expression as the officer types (the form checks again on save)."""
    require(request.user, VIEW_RULES)
    source = request.POST.get("expression", "")
    try:
        compiled = compile_expression(source)
        services.expression_validate(source)
    except ExpressionError as error:
        return JsonResponse(
            {"ok": False, "error": str(error), "line": error.line, "column": error.column}
        )
    except ValidationError as error:
        return JsonResponse({"ok": False, "error": _error_text(error)})
    return JsonResponse(
        {"ok": True, "aggregates": [spec.describe() for spec in compiled.aggregates]}
    )


def rule_status(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=rule_id)
    if request.method != "POST":
        raise PermissionDenied
    require(request.user, CHANGE_RULES)
    form = StatusChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("target_status", ["Invalid request."])))
        return redirect("admin:rules_rule_change", rule.pk)
    try:
        change = services.rule_status_change(
            rule=rule,
            target_status=form.cleaned_data["target_status"],
            actor=request.user,
            comment=form.cleaned_data["comment"],
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        if change.state == ChangeState.PENDING:
            messages.warning(
                request,
                f"Making the rule {change.target_status} waits for another officer's approval.",
            )
        else:
            messages.success(request, f"The rule is now {change.target_status}.")
    return redirect("admin:rules_rule_change", rule.pk)


_DECISIONS = {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}


@require_POST
def change_decide(request: HttpRequest, change_id: int, decision: str) -> HttpResponse:
    """Approve, reject or withdraw a pending change request (the service checks who may)."""
    change = get_object_or_404(RuleChange, pk=change_id)
    if decision not in _DECISIONS:
        return HttpResponseBadRequest(
            f"Unknown decision {decision!r}: approve, reject or withdraw.".encode()
        )
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("comment", ["Invalid comment."])))
        return redirect(_change_page(change))
    comment = form.cleaned_data["comment"]
    try:
        if decision == "approve":
            services.rule_change_approve(change=change, approver=request.user, comment=comment)
        elif decision == "reject":
            services.rule_change_reject(change=change, approver=request.user, comment=comment)
        else:
            services.rule_change_withdraw(change=change, actor=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    except PermissionDenied as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Change {_DECISIONS[decision]}.")
    return redirect(_change_page(change))


def _change_page(change: RuleChange) -> str:
    if change.kind == ChangeKind.LIST:
        return reverse("admin:rules_rulelist_change", args=[change.rule_list_id])
    if change.kind == ChangeKind.THRESHOLDS:
        return reverse("admin:rules_decisionthresholds_change", args=[1])
    return reverse("admin:rules_rule_change", args=[change.rule_id])


def rule_restore(request: HttpRequest, rule_id: int, version_id: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=rule_id)
    version = get_object_or_404(RuleVersion, pk=version_id, rule=rule)
    if request.method != "POST":
        raise PermissionDenied
    require(request.user, CHANGE_RULES)
    try:
        restored = services.rule_version_restore(rule=rule, version=version, author=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            f"Version {version.number} restored as version {restored.number}"
            + (" (awaiting approval)." if rule.status == RuleStatus.LIVE else "."),
        )
    return redirect("admin:rules_rule_change", rule.pk)


def rule_try(request: HttpRequest, rule_id: int) -> TemplateResponse:
    require(request.user, VIEW_RULES)
    rule = get_object_or_404(Rule.objects.select_related("version"), pk=rule_id)
    version = selectors.rule_version_chosen(rule=rule, version_id=request.GET.get("version"))
    form = TryForm(request.POST or None)
    result = errors = None
    if request.method == "POST" and form.is_valid():
        try:
            result = services.rule_try(
                version=version,
                partner=form.cleaned_data["partner"],
                payload=form.cleaned_data["payload"],
            )
        except ValidationError as invalid:
            errors = invalid.messages
    return _page(
        request,
        "admin/rules/rule_try.html",
        f"Try {rule.code} v{version.number}",
        Rule._meta,
        rule=rule,
        version=version,
        form=form,
        result=result,
        errors=errors,
    )


def rule_backtest(request: HttpRequest, rule_id: int) -> HttpResponse:
    require(request.user, VIEW_RULES)
    rule = get_object_or_404(Rule.objects.select_related("version"), pk=rule_id)
    version = selectors.rule_version_chosen(rule=rule, version_id=request.GET.get("version"))
    form = BacktestForm(request.POST or None)
    if request.method == "POST":
        require(request.user, RUN_BACKTESTS)
        if form.is_valid():
            try:
                backtest = services.backtest_request(
                    version=version,
                    occurred_after=form.cleaned_data["occurred_after"],
                    occurred_before=form.cleaned_data["occurred_before"],
                    partner=form.cleaned_data["partner"],
                    actor=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("admin:rules_backtest_detail", backtest.pk)
    return _page(
        request,
        "admin/rules/rule_backtest.html",
        f"Back-test {rule.code} v{version.number}",
        Rule._meta,
        rule=rule,
        version=version,
        form=form,
    )


def backtest_detail(request: HttpRequest, backtest_id: int) -> TemplateResponse:
    require(request.user, VIEW_RULES)
    backtest = selectors.backtest_get(backtest_id=backtest_id)
    return _page(
        request,
        "admin/rules/backtest_detail.html",
        f"Back-test #{backtest.pk}",
        Rule._meta,
        backtest=backtest,
        rule=backtest.rule_version.rule,
    )


# --- Lists -----------------------------------------------------------------------------------


def list_import(request: HttpRequest, list_id: int) -> HttpResponse:
    rule_list = get_object_or_404(RuleList, pk=list_id)
    require(request.user, CHANGE_LISTS)
    form = ListImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = services.list_entries_import(
                rule_list=rule_list,
                csv_text=form.cleaned_data["file"],
                replace=form.cleaned_data["replace"],
                actor=request.user,
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error("file", message)
        else:
            messages.success(
                request,
                f"Imported: {outcome.added} added, {outcome.removed} removed, "
                f"{outcome.unchanged} already there.",
            )
            if outcome.change is not None:
                messages.warning(
                    request,
                    f"Waiting for another compliance officer's approval: {outcome.change.summary}.",
                )
            return redirect("admin:rules_rulelist_change", rule_list.pk)
    return _page(
        request,
        "admin/rules/rulelist_import.html",
        f"Import entries into {rule_list.name}",
        RuleList._meta,
        rule_list=rule_list,
        form=form,
    )


def list_export(request: HttpRequest, list_id: int) -> HttpResponse:
    rule_list = get_object_or_404(RuleList, pk=list_id)
    require(request.user, VIEW_LISTS)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["value", "note"])
    writer.writerows(selectors.list_entries_rows(rule_list=rule_list))
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{rule_list.name}.csv"'
    return response
