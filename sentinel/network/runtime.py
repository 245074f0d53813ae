"""The detector parameters this process runs with: the version in force, loaded once and
reloaded within half a second of another version being put in force (sentinel.generations),
so the scoring path reads no database row per transaction or batch for them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sentinel.generations import Generational

from .detectors import Parameters
from .models import ParametersInForce, ParameterVersion
from .proximity import ProximityParameters
from .window import WindowParameters

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InForce:
    """The searches', the window scan's and the proximity walk's parameters of one version
    (``number`` None: no version exists, the code's defaults)."""

    number: int | None
    searches: Parameters
    window: WindowParameters
    proximity: ProximityParameters = ProximityParameters()


def of_version(version: ParameterVersion) -> InForce:
    """What the detectors read, from a version's fields (percentages as shares)."""
    percent = Decimal(100)
    searches = Parameters(
        max_hops=version.max_hops,
        max_visits=version.walk_nodes,
        edges_per_node=version.edges_per_node,
        round_trip_window=timedelta(days=version.round_trip_days),
        horizon=timedelta(days=version.carried_days),
        fee_tolerance=Decimal(version.fee_tolerance_percent) / percent,
        round_sum=version.round_sum_multiple,
        everyday_below=version.everyday_sum_below,
        forward_share=Decimal(version.forward_share_percent) / percent,
        forward_within=timedelta(hours=version.forward_hours),
        forward_most=Decimal(version.forward_most_percent) / percent,
        counterparty_window=timedelta(days=version.counterparty_days),
        loop_window=timedelta(days=version.loop_days),
        value_spread=Decimal(version.value_spread_percent) / percent,
        version_id=version.pk,
    )
    window = WindowParameters(
        window=timedelta(days=version.window_days),
        history=timedelta(days=version.history_days),
        fan_min=version.fan_min,
        gather_scatter_min=version.gather_scatter_min,
        scatter_gather_min=version.scatter_gather_min,
        bipartite_min=version.bipartite_min,
        bipartite_degree_max=version.bipartite_degree_max,
        bipartite_density=version.bipartite_density_percent / 100,
        ring_amount_min=Decimal(version.ring_amount_min),
        version_id=version.pk,
    )
    proximity = ProximityParameters(
        max_hops=version.proximity_hops,
        hub_counterparties=version.proximity_hub_counterparties,
    )
    return InForce(version.number, searches, window, proximity)


def _load() -> InForce:
    row = ParametersInForce.objects.select_related("version").filter(pk=1).first()
    if row is None:
        logger.warning("No network parameter version is in force; using the code's defaults.")
        return InForce(None, Parameters(), WindowParameters())
    return of_version(row.version)


_in_force: Generational[InForce] = Generational("network_parameters", _load)


def in_force() -> InForce:
    """The parameters in force, as this process has them."""
    return _in_force.get()


def forget() -> None:
    """Drop this process's parameters; the next ``in_force`` reloads them (tests)."""
    _in_force.forget()


def parameters_changed() -> None:
    """Call inside the transaction that put another version in force."""
    _in_force.changed()
