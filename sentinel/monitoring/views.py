"""The staff dashboard of the operational monitor: ``/monitor/`` (every partner, busiest
first, and the learned risk score's open drift alerts; ``?partner=`` one partner's detail) and
its JSON feed ``/monitor/data``."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sentinel.timestamps import iso_utc

from . import selectors
from .analysis import analyse
from .choices import Metric
from .dashboard import DEFAULT_WINDOW, WINDOWS, chart_series, partners_overview
from .report import section
from .selectors import SeriesKey
from .timing import MinuteError, resolve_minute

VIEW_PERMISSION = "monitoring.view_minutestat"


def _dashboard(request) -> dict:
    if not (request.user.is_staff and request.user.has_perm(VIEW_PERMISSION)):
        raise PermissionDenied
    partners = selectors.monitored_partners()
    slug = request.GET.get("partner")
    partner = next((p for p in partners if p.slug == slug), None)
    if slug and partner is None:
        raise Http404("No such partner.")
    window = request.GET.get("window", DEFAULT_WINDOW)
    window = window if window in WINDOWS else DEFAULT_WINDOW
    context = {"partners": partners, "partner": partner, "window": window, "windows": WINDOWS}
    at = _minute(request, partners=[partner] if partner else partners)
    if partner is None:
        context.update(
            at=at,
            overview=partners_overview(partners=partners, at=at),
            drift_alerts=selectors.model_drift_alerts_open(),
        )
        return context
    config = selectors.monitor_configs(partner_ids=[partner.pk])[partner.pk]
    (analysis,) = analyse(keys=[SeriesKey((partner.pk,))], configs=[config], at=at)
    context.update(
        at=at,
        report=section(analysis),
        settings=config.as_dict(),
        charts=chart_series(partner=partner, analysis=analysis, window=window),
        open_alerts=selectors.operational_alerts_open(partner=partner),
        recent_alerts=selectors.operational_alerts_list(partner=partner)[:20],
        metric_labels=dict(Metric.choices),
    )
    return context


def _minute(request, *, partners) -> datetime:
    try:
        return resolve_minute(request.GET.get("at"), partner_ids=[p.pk for p in partners])
    except MinuteError:
        return resolve_minute(None, partner_ids=[p.pk for p in partners])


@require_GET
@login_required
def monitor_dashboard(request):
    context = _dashboard(request)
    if "report" in context:
        context["rows"] = [
            {
                "metric": metric,
                "label": context["metric_labels"][metric],
                "value": context["report"]["metrics"].get(
                    "latency_p95_ms" if metric == Metric.LATENCY_P95 else metric
                ),
                "threshold": context["report"]["thresholds"][metric],
                "persistence": context["report"]["persistence_analysis"][metric],
            }
            for metric in Metric.values
        ]
    return render(request, "monitor/dashboard.html", context)


@require_GET
@login_required
def monitor_data(request):
    """The dashboard's live data: the same report and charts, as JSON."""
    context = _dashboard(request)
    if "report" not in context:
        return JsonResponse(
            {
                "partner": None,
                "current_minute": iso_utc(context["at"]),
                "partners": context["overview"],
                "model_drift_alerts": [
                    {
                        "id": alert.pk,
                        "metric": alert.metric,
                        "severity": alert.severity,
                        "value": alert.value,
                        "threshold": alert.threshold,
                        "model_version": alert.detail.get("model_version"),
                        "started_minute": iso_utc(alert.started_minute),
                        "last_minute": iso_utc(alert.last_minute),
                    }
                    for alert in context["drift_alerts"]
                ],
            }
        )
    return JsonResponse(
        {
            "partner": context["partner"].slug,
            "current_minute": iso_utc(context["at"]),
            **context["report"],
            "charts": context["charts"],
            "open_alerts": [
                {
                    "id": alert.pk,
                    "metric": alert.metric,
                    "severity": alert.severity,
                    "persistence_minutes": alert.persistence_minutes,
                    "started_minute": alert.started_minute.isoformat(),
                }
                for alert in context["open_alerts"]
            ],
        }
    )
