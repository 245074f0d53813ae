"""The money-flow hop's JSON answer, shared by the case and alert pages' endpoints.

Those endpoints decide who may look (whoever may see the case or the alert) and whose
transactions (its partner's); this validates the query and reads one hop.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from .flows import FlowDirection, money_flow_hop, money_flow_json
from .forms import MoneyFlowHopForm
from .models import PartnerBank


def money_flow_hop_response(request: HttpRequest, *, partner: PartnerBank) -> JsonResponse:
    """The next hop as JSON (transactions.flows.money_flow_json), or 400 with the reason."""
    form = MoneyFlowHopForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"error": form.problems()}, status=400)
    flow = money_flow_hop(
        partner=partner,
        account=form.cleaned_data["account"],
        direction=FlowDirection(form.cleaned_data["direction"]),
        at=form.cleaned_data["at"],
    )
    return JsonResponse(money_flow_json(flow))
