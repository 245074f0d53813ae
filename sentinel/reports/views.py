"""``/reports/`` and ``/reports/<report>/`` (``&format=csv`` for its CSV): compliance officers
and senior investigators; everyone else gets 403."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sentinel.csv_export import csv_response

from .catalog import BY_SLUG, REPORTS
from .periods import ReportFilterForm
from .permissions import can_view


@require_GET
@login_required
def report_index(request):
    if not can_view(request.user):
        raise PermissionDenied
    form = ReportFilterForm(request.GET)
    query = form.filters().query() if form.is_valid() else ""
    context = {"form": form, "reports": REPORTS, "query": query}
    return render(request, "reports/index.html", context, status=200 if query else 400)


@require_GET
@login_required
def report_detail(request, slug: str):
    if not can_view(request.user):
        raise PermissionDenied
    report = BY_SLUG.get(slug)
    if report is None:
        raise Http404("No such report.")
    form = ReportFilterForm(request.GET)
    if not form.is_valid():
        if request.GET.get("format") == "csv":
            return HttpResponseBadRequest("Invalid filters: " + form.errors.as_text())
        context = {"form": form, "report": report, "reports": REPORTS}
        return render(request, "reports/detail.html", context, status=400)
    filters = form.filters()
    rows = report.run(filters)
    if request.GET.get("format") == "csv":
        name = f"{slug}-{filters.partner.slug if filters.partner else 'all'}"
        filename = f"{name}-{filters.first_day}-{filters.last_day}.csv"
        return csv_response(report.csv_rows(rows), filename=filename)
    context = {"form": form, "report": report, "reports": REPORTS, "filters": filters}
    context |= {"table": report.cells(rows), "chart": report.chart(rows)}
    return render(request, "reports/detail.html", context)
