"""The ``network`` feature provider: what the graph says about a transaction, for the rules."""

from __future__ import annotations

from decimal import Decimal

from rules.features.base import FeatureBatch, FeatureField, FeatureProvider

from .models import PROXIMITY_MAX_HOPS
from .proximity import COUNTERPARTY_NOTE, HOPS_NOTE, counterparty_account, proximity_fields
from .runtime import in_force
from .selectors import counterparts_counts, finding_figures, proximity_of

NUMBER, BOOL = "number", "bool"


class NetworkFeatures(FeatureProvider):
    """Reads what the pipeline's network step found through each transfer (NetworkFinding),
    and counts the customer's account's distinct counterparties in the graph."""

    name = "network"
    fields = (
        FeatureField("network.in_cycle", BOOL, "the transfer closes a cycle back to its sender"),
        FeatureField(
            "network.cycle_length", NUMBER, "hops of the cycle it closes (0: none), 2 to 12"
        ),
        FeatureField(
            "network.cycle_days", NUMBER, "days from the cycle's first to last hop (may be empty)"
        ),
        FeatureField(
            "network.cycle_time_ordered",
            BOOL,
            "each hop of the cycle left after the previous one arrived (a round trip)",
        ),
        FeatureField(
            "network.cycle_value_spread",
            NUMBER,
            "how far apart the cycle's hop values lie, in one currency: (largest - smallest) / "
            "largest, in %; empty when there is no cycle or no exchange rate to compare them",
        ),
        FeatureField(
            "network.loop_length",
            NUMBER,
            "hops of the value loop it closes (0: none): a cycle of 3 or more whose hops, in "
            "any time order, lie within the loop window and whose values, in one currency, "
            "lie within the value spread (network parameters; 7 days and 25 % as installed)",
        ),
        FeatureField(
            "network.carried_hops",
            NUMBER,
            "hops of the longest path through it on which the same amount (less fees) moves",
        ),
        FeatureField(
            "network.chain_depth",
            NUMBER,
            "hops of the layering chain it ends: each account forwarded most of what it got "
            "within hours",
        ),
        FeatureField(
            "network.fan_in_accounts",
            NUMBER,
            "distinct accounts that paid the customer's account within the counterparty window "
            "(network parameters; 7 days as installed)",
        ),
        FeatureField(
            "network.fan_out_accounts",
            NUMBER,
            "distinct accounts the customer's account paid within the counterparty window "
            "(network parameters; 7 days as installed)",
        ),
        FeatureField(
            "network.hops_to_flagged",
            NUMBER,
            "transfers between the customer's account and the nearest known-bad account "
            "(watch-listed, in a filed SAR, or confirmed fraud by the partner), either way, "
            f"over the graph's window: 0 the account itself, 1 to {PROXIMITY_MAX_HOPS}; empty "
            f"when none is within {PROXIMITY_MAX_HOPS}",
            note=HOPS_NOTE,
        ),
        FeatureField(
            "network.flagged_counterparty",
            BOOL,
            "the transaction's counterparty account is itself known bad (watch-listed, in a "
            "filed SAR, or confirmed fraud by the partner)",
            note=COUNTERPARTY_NOTE,
        ),
    )
    needs = frozenset({"database"})
    in_request = False  # the graph step runs in the worker, before the features
    # Findings and proximity are stored: a back-test reads them again (proximity as it is now).
    replayable = True
    budget_us = 300

    def values(self, batch: FeatureBatch) -> list[dict[str, object]]:
        txs = batch.transactions
        findings = finding_figures(transaction_ids=[tx.id for tx in txs])
        # Fan-in and fan-out count distinct accounts over the counterparty window (FATF/Egmont
        # funnel-account cases gather from many payers within days).
        parameters = in_force()
        counterpart_window = parameters.searches.counterparty_window
        hops = parameters.proximity.max_hops
        accounts = [(tx.account_external_id, counterparty_account(tx)) for tx in txs]
        windows = [
            (tx.partner_id, own, tx.occurred_at - counterpart_window, tx.occurred_at)
            for tx, (own, _) in zip(txs, accounts, strict=True)
        ]
        counterparts = counterparts_counts(windows)
        proximity = proximity_of(
            accounts=[
                (tx.partner_id, account)
                for tx, pair in zip(txs, accounts, strict=True)
                for account in pair
            ]
        )
        values = []
        for tx, (senders, receivers), pair in zip(txs, counterparts, accounts, strict=True):
            finding = findings.get(tx.id)
            values.append(
                {
                    "network.in_cycle": bool(finding and finding.cycle_length),
                    "network.cycle_length": Decimal(finding.cycle_length if finding else 0),
                    "network.cycle_days": finding.cycle_days if finding else None,
                    "network.cycle_time_ordered": bool(finding and finding.cycle_time_ordered),
                    "network.cycle_value_spread": finding.cycle_value_spread if finding else None,
                    "network.loop_length": Decimal(finding.loop_length if finding else 0),
                    "network.carried_hops": Decimal(finding.carried_hops if finding else 1),
                    "network.chain_depth": Decimal(finding.chain_depth if finding else 1),
                    "network.fan_in_accounts": Decimal(senders),
                    "network.fan_out_accounts": Decimal(receivers),
                    **proximity_fields(tx, proximity, accounts=pair, max_hops=hops),
                }
            )
        return values
