"""The default rule pack and the lists it uses, as plain data; migration 0002 installs them.

One rule or more per typology (``rules.choices.Typology``). Every threshold says where it comes
from in ``source``: a regulation's reporting line, a supervisor's red-flag guidance, or, where
no authority gives a number, our own calibration, said as such. docs/detection.md explains each
rule and holds the figures ``manage.py detection_report`` measured on the demo population.

Amounts are in the transaction's currency. The reporting lines of the demo partners' regulators
happen to be 10,000 in each of their currencies (USD, CAD, EUR); a partner elsewhere needs a
rule scoped to it (``partners``) with its own line.

What migration 0002 installed is history: to change a rule on existing installations, add a
``PackRevision`` and a migration that applies it (``pack_revise``: the rule's next version), or
let compliance officers change it in the admin.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from transactions.choices import TransactionType as T

from .choices import ListKind, RuleOutcome, Severity, Typology
from .versions import VERSION_CONTENT, version_diff

DAY = 86_400
INSTALL_COMMENT = "Installed with Sentinel"
# The reporting line for cash in the demo partners' jurisdictions (see LARGE_CASH_SOURCE).
REPORTING_THRESHOLD = 10_000


@dataclass(frozen=True)
class PackEntry:
    value: str
    note: str = ""


@dataclass(frozen=True)
class PackList:
    name: str
    kind: str
    description: str
    source: str
    entries: tuple[PackEntry, ...] = ()


@dataclass(frozen=True)
class PackRule:
    code: str
    name: str
    description: str
    typologies: tuple[str, ...]
    expression: str
    severity: str
    score: int
    outcome: str
    source: str
    transaction_types: tuple[str, ...] = ()  # empty: every type
    suppression_seconds: int = DAY

    def version_fields(self) -> dict[str, object]:
        """The RuleVersion fields this rule fills (the source goes into the description)."""
        return {
            "name": self.name,
            "description": f"{self.description}\n\nThresholds: {self.source}",
            "typologies": list(self.typologies),
            "expression": self.expression,
            "severity": self.severity,
            "score": self.score,
            "outcome": self.outcome,
            "transaction_types": list(self.transaction_types),
            "suppression_seconds": self.suppression_seconds,
        }


# --- Lists -------------------------------------------------------------------------------------

_CALL_FOR_ACTION = "FATF call for action (black list), October 2025"
_INCREASED_MONITORING = "FATF increased monitoring (grey list), October 2025"

HIGH_RISK_COUNTRIES = PackList(
    name="high_risk_countries",
    kind=ListKind.COUNTRY,
    description=(
        "Jurisdictions the FATF names as having strategic AML/CFT deficiencies: those subject "
        "to a call for action and those under increased monitoring. Review after every FATF "
        "plenary (February, June, October)."
    ),
    source="FATF public statements of 24 October 2025 (fatf-gafi.org)",
    entries=(
        PackEntry("KP", f"{_CALL_FOR_ACTION}: countermeasures (DPRK)"),
        PackEntry("IR", f"{_CALL_FOR_ACTION}: countermeasures (Iran)"),
        PackEntry("MM", f"{_CALL_FOR_ACTION}: enhanced due diligence (Myanmar)"),
        *(
            PackEntry(code, f"{_INCREASED_MONITORING} ({name})")
            for code, name in (
                ("DZ", "Algeria"),
                ("AO", "Angola"),
                ("BO", "Bolivia"),
                ("BG", "Bulgaria"),
                ("CM", "Cameroon"),
                ("CI", "Côte d'Ivoire"),
                ("CD", "Democratic Republic of the Congo"),
                ("HT", "Haiti"),
                ("KE", "Kenya"),
                ("LA", "Lao PDR"),
                ("LB", "Lebanon"),
                ("MC", "Monaco"),
                ("NA", "Namibia"),
                ("NP", "Nepal"),
                ("SS", "South Sudan"),
                ("SY", "Syria"),
                ("VE", "Venezuela"),
                ("VN", "Vietnam"),
                ("VG", "British Virgin Islands"),
                ("YE", "Yemen"),
            )
        ),
    ),
)
SANCTIONS = PackList(
    name="sanctions",
    kind=ListKind.NAME,
    description=(
        "Sanctioned persons and entities, matched by name whatever the case, accents or word "
        "order. Ships empty: import the lists your partners are bound by (CSV: value,note)."
    ),
    source="To load: OFAC SDN, EU consolidated financial sanctions, UN SC consolidated, UK OFSI",
)
WATCHLIST_ACCOUNTS = PackList(
    name="watchlist_accounts",
    kind=ListKind.ACCOUNT,
    description=(
        "Accounts to watch, on our books or a counterparty's: confirmed mules, law-enforcement "
        "requests, earlier SARs. Ships empty."
    ),
    source="Internal: investigators' referrals",
)
BLOCKED_DEVICES = PackList(
    name="blocked_devices",
    kind=ListKind.DEVICE,
    description="Devices seen in confirmed fraud (account takeover, card testing). Ships empty.",
    source="Internal: fraud investigations",
)
LISTS = (HIGH_RISK_COUNTRIES, SANCTIONS, WATCHLIST_ACCOUNTS, BLOCKED_DEVICES)


# --- Rules -------------------------------------------------------------------------------------

LARGE_CASH_SOURCE = (
    "Reporting line 10,000 in USD, CAD and EUR alike: US Currency Transaction Report for cash "
    "over USD 10,000 (31 CFR 1010.311; same-day cash aggregated, 1010.313); Canada Large Cash "
    "Transaction Report for CAD 10,000 or more, 24-hour rule included (PCMLTFR, "
    "SOR/2002-184); EU cash at or above EUR 10,000 (Directive (EU) 2015/849 art. 11(c), and "
    "the EUR 10,000 cash-payment cap of Regulation (EU) 2024/1624 art. 80)."
)
_TRANSFERS = (T.TRANSFER, T.P2P, T.WIRE)
# Money that moves between people; salaries (ACH), card payments and cash are left out so payday
# and the rent do not look like funds passing through.
_MOVES = '["wire", "transfer", "p2p"]'
# Money moved between the customer's own accounts is not a payment to someone else.
_NOT_OWN_ACCOUNT = (
    '(counterparty.customer_id == "" or counterparty.customer_id != customer.customer_id)'
)

PACK = (
    PackRule(
        code="large_cash_transaction",
        name="Cash transaction at or over the reporting threshold",
        description="One cash deposit or withdrawal at or over the regulator's reporting line.",
        typologies=(Typology.LARGE_CASH,),
        expression="amount >= 10000",
        transaction_types=(T.CASH_DEPOSIT, T.CASH_WITHDRAWAL),
        severity=Severity.MEDIUM,
        score=40,
        outcome=RuleOutcome.ALERT,
        source=LARGE_CASH_SOURCE,
    ),
    PackRule(
        code="large_cash_daily_total",
        name="Cash deposits adding up to the reporting threshold within 24 hours",
        description=(
            "Several cash deposits by one customer, each under the reporting line, together "
            "reaching it within 24 hours: reportable as one (CTR aggregation, the Canadian "
            "24-hour rule), and often the first sign of structuring."
        ),
        typologies=(Typology.LARGE_CASH, Typology.STRUCTURING),
        expression=(
            'amount < 10000 and sum(amount, by="customer", within="24h", type="cash_deposit") '
            ">= 10000"
        ),
        transaction_types=(T.CASH_DEPOSIT,),
        severity=Severity.MEDIUM,
        score=40,
        outcome=RuleOutcome.ALERT,
        source=LARGE_CASH_SOURCE,
    ),
    PackRule(
        code="large_wire",
        name="Cross-border wire at or over the reporting threshold",
        description=(
            "A wire, in or out, of 10,000 or more with a counterparty in another country than "
            "the customer's (or in no stated country)."
        ),
        typologies=(Typology.LARGE_CASH,),
        expression="amount >= 10000 and counterparty.country != customer.country",
        transaction_types=(T.WIRE,),
        severity=Severity.LOW,
        score=20,
        outcome=RuleOutcome.ALERT,
        source=(
            "Canada Electronic Funds Transfer Report for international EFTs of CAD 10,000 or "
            "more (PCMLTFR, SOR/2002-184); the same 10,000 line as cash elsewhere. US funds-"
            "transfer record-keeping and the travel rule start at USD 3,000 (31 CFR "
            "1020.410(a), 1010.410(f)) but are not reports."
        ),
    ),
    PackRule(
        code="structuring_near_threshold",
        name="Repeated cash deposits just under the reporting threshold",
        description=(
            "A cash deposit between 90% and 100% of the reporting line when the account had "
            "another cash deposit in the past 7 days: splitting cash to stay under the line."
        ),
        typologies=(Typology.STRUCTURING,),
        expression=(
            "amount >= 9000 and amount < 10000 and "
            'count(by="account", within="7d", type="cash_deposit") >= 2'
        ),
        transaction_types=(T.CASH_DEPOSIT,),
        severity=Severity.HIGH,
        score=70,
        outcome=RuleOutcome.REVIEW,
        suppression_seconds=7 * DAY,
        source=(
            "Structuring is an offence whatever the amounts (31 USC 5324; FINTRAC guidance on "
            "structuring under the 24-hour rule); FinCEN and FFIEC BSA/AML Manual red flags: "
            "'two or more cash transactions just below the threshold'. 'Just below' as 90-100% "
            "of the line and 7 days: our calibration."
        ),
    ),
    PackRule(
        code="structuring_weekly_cash",
        name="Cash deposits over 2.5 times the threshold in 7 days, each under it",
        description=(
            "Cash deposited in pieces under the reporting line that add up to more than two and "
            "a half times the line within a week."
        ),
        typologies=(Typology.STRUCTURING,),
        expression=(
            'amount < 10000 and sum(amount, by="account", within="7d", type="cash_deposit") > 25000'
        ),
        transaction_types=(T.CASH_DEPOSIT,),
        severity=Severity.HIGH,
        score=60,
        outcome=RuleOutcome.REVIEW,
        suppression_seconds=7 * DAY,
        source=(
            "FFIEC BSA/AML Manual, appendix F (structuring red flags); FATF 'Money laundering "
            "through the physical transportation of cash' (2015). 25,000 in 7 days (2.5 times "
            "the 10,000 line): our calibration."
        ),
    ),
    PackRule(
        code="transfer_velocity",
        name="Fifteen or more transfers out within an hour",
        description=(
            "An account sending transfers, p2p payments or wires faster than a person does: "
            "account takeover being cashed out, or a mule moving funds on."
        ),
        typologies=(Typology.VELOCITY,),
        expression=(
            'direction == "outbound" and count(by="account", within="1h", '
            f'type={_MOVES}, direction="outbound") >= 15'
        ),
        transaction_types=_TRANSFERS,
        severity=Severity.HIGH,
        score=80,
        outcome=RuleOutcome.REVIEW,
        suppression_seconds=DAY,
        source=(
            "No regulator gives a number: FATF and Europol (EMMA) money-mule red flags and "
            "UK Finance account-takeover guidance describe 'many payments in quick "
            "succession'. 15 per hour: our calibration; ordinary customers make a few "
            "transfers a week."
        ),
    ),
    PackRule(
        code="fan_in_many_senders",
        name="3,000 or more from eight or more different senders within 48 hours",
        description=(
            "Many different people paying a significant sum into one account within two days: "
            "a collection (funnel) account or a money mule. The sum keeps out sole traders "
            "paid small amounts by their clients."
        ),
        typologies=(Typology.FAN_IN,),
        expression=(
            'direction == "inbound" and distinct("counterparty", by="account", within="48h", '
            f'direction="inbound", type={_MOVES}) >= 8 and sum(amount, by="account", '
            f'within="48h", direction="inbound", type={_MOVES}) >= 3000'
        ),
        transaction_types=_TRANSFERS,
        severity=Severity.HIGH,
        score=60,
        outcome=RuleOutcome.REVIEW,
        suppression_seconds=2 * DAY,
        source=(
            "FinCEN advisory FIN-2014-A005 (funnel accounts: deposits by many people into one "
            "account) and Europol EMMA money-mule indicators. 8 senders and 3,000 in 48 hours: "
            "our calibration."
        ),
    ),
    PackRule(
        code="fan_out_new_beneficiaries",
        name="Eight or more new beneficiaries within 24 hours",
        description=(
            "Payments to many people the account never paid before (in the last 35 days), "
            "within a day: money being dispersed."
        ),
        typologies=(Typology.FAN_OUT,),
        expression=(
            'direction == "outbound" and new_counterparties(by="account", within="24h", '
            f'direction="outbound", type={_MOVES}) >= 8'
        ),
        transaction_types=_TRANSFERS,
        severity=Severity.HIGH,
        score=60,
        outcome=RuleOutcome.REVIEW,
        source=(
            "FATF 'Professional money laundering' (2018) and Europol EMMA indicators: funds "
            "dispersed to many new payees. 8 new payees in 24 hours: our calibration."
        ),
    ),
    PackRule(
        code="rapid_pass_through",
        name="Nearly all of at least 5,000 received sent on within 24 hours",
        description=(
            "Within 24 hours the account received at least 5,000 by wire, transfer or p2p and "
            "sent at least 90% of it on, this payment going to someone else than the customer: "
            "funds passing through, not used."
        ),
        typologies=(Typology.PASS_THROUGH,),
        expression=(
            f'direction == "outbound" and {_NOT_OWN_ACCOUNT} and '
            f'sum(amount, by="account", within="24h", direction="inbound", type={_MOVES}, '
            'status="approved") >= 5000 and '
            f'sum(amount, by="account", within="24h", direction="outbound", type={_MOVES}, '
            'status="approved") >= 0.9 * '
            f'sum(amount, by="account", within="24h", direction="inbound", type={_MOVES}, '
            'status="approved")'
        ),
        transaction_types=_TRANSFERS,
        severity=Severity.HIGH,
        score=70,
        outcome=RuleOutcome.REVIEW,
        source=(
            "FinCEN FIN-2014-A005 and FFIEC BSA/AML Manual appendix F: funds wired out soon "
            "after they arrived, the account a conduit. 'Nearly all within a day' as 90% in "
            "24 hours; the 5,000 floor is our calibration."
        ),
    ),
    PackRule(
        code="high_risk_jurisdiction",
        name="Counterparty in a FATF high-risk jurisdiction",
        description="Any transaction with a counterparty in a country on high_risk_countries.",
        typologies=(Typology.HIGH_RISK_COUNTRY,),
        expression='counterparty.country in list("high_risk_countries")',
        severity=Severity.HIGH,
        score=60,
        outcome=RuleOutcome.REVIEW,
        source=(
            "FATF Recommendation 19 (enhanced due diligence for higher-risk countries); the "
            "list is FATF's of October 2025. Delegated Regulation (EU) 2016/1675, as amended, "
            "lists the EU's own high-risk third countries; add those a partner is bound by."
        ),
    ),
    PackRule(
        code="sanctions_name_match",
        name="Customer or counterparty on the sanctions list",
        description="The customer's or the counterparty's name is on the sanctions list.",
        typologies=(Typology.LIST_HIT,),
        expression=('counterparty.name in list("sanctions") or customer.name in list("sanctions")'),
        severity=Severity.CRITICAL,
        score=300,
        outcome=RuleOutcome.BLOCK,
        suppression_seconds=0,
        source=(
            "Sanctions apply from the first cent: OFAC regulations (31 CFR chapter V), EU "
            "restrictive measures (e.g. Regulation (EU) 269/2014), UN Security Council "
            "resolutions. Every match is held for review."
        ),
    ),
    PackRule(
        code="watchlist_match",
        name="Watch-listed account or blocked device",
        description=(
            "The customer's or counterparty's account is on watchlist_accounts, or the device "
            "is on blocked_devices."
        ),
        typologies=(Typology.LIST_HIT,),
        expression=(
            'customer.account_id in list("watchlist_accounts") or '
            'counterparty.account_id in list("watchlist_accounts") or '
            'device_id in list("blocked_devices")'
        ),
        severity=Severity.HIGH,
        score=100,
        outcome=RuleOutcome.REVIEW,
        source="Internal lists: no threshold, any match is reviewed.",
    ),
    PackRule(
        code="card_testing_burst",
        name="Burst of tiny card payments, mostly declined",
        description=(
            "Eight or more card payments within 10 minutes, more than half of them declined, "
            "this one under 10: a stolen card number being tested."
        ),
        typologies=(Typology.CARD_TESTING,),
        expression=(
            'amount < 10 and count(by="account", within="10m", type="card_payment") >= 8 and '
            'count(by="account", within="10m", type="card_payment", status=["denied", '
            '"failed"]) > 0.5 * count(by="account", within="10m", type="card_payment")'
        ),
        transaction_types=(T.CARD_PAYMENT,),
        severity=Severity.CRITICAL,
        score=150,
        outcome=RuleOutcome.BLOCK,
        suppression_seconds=3600,
        source=(
            "Visa card-testing guidance for merchants and the enumeration measures of the Visa "
            "Acquirer Monitoring Program (bursts of low-value authorisations, high decline "
            "rates); Mastercard Security Rules and Procedures. The numbers (8 in 10 minutes, "
            "over half declined, each under 10): our calibration."
        ),
    ),
    PackRule(
        code="dormant_account_reactivated",
        name="Dormant account moves 3,000 or more",
        description=(
            "The account's first transaction after more than 180 days without any, for 3,000 "
            "or more."
        ),
        typologies=(Typology.DORMANT,),
        expression=(
            'amount >= 3000 and days_since_previous(by="account") != null and '
            'days_since_previous(by="account") > 180'
        ),
        severity=Severity.MEDIUM,
        score=50,
        outcome=RuleOutcome.REVIEW,
        source=(
            "FFIEC BSA/AML Manual appendix F and FINTRAC ML indicators: 'a dormant account "
            "suddenly becomes active'. 180 days is the usual inactivity line in banks' "
            "procedures; 3,000 is our calibration (small reactivations are everyday)."
        ),
    ),
    PackRule(
        code="large_round_transfers",
        name="Large round-amount transfer, third transfer out in 7 days",
        description=(
            "A transfer or wire out of 5,000 or more in whole thousands to someone else (not "
            "the customer's own account), when the account made at least two other transfers "
            "or wires out in the past 7 days."
        ),
        typologies=(Typology.ROUND_AMOUNTS,),
        expression=(
            'direction == "outbound" and amount >= 5000 and amount % 1000 == 0 and '
            f"{_NOT_OWN_ACCOUNT} and "
            'count(by="account", within="7d", type=["transfer", "wire"], '
            'direction="outbound") >= 3'
        ),
        transaction_types=(T.TRANSFER, T.WIRE),
        severity=Severity.MEDIUM,
        score=40,
        outcome=RuleOutcome.ALERT,
        suppression_seconds=7 * DAY,
        source=(
            "FFIEC BSA/AML Manual appendix F ('funds transfers in large, round dollar "
            "amounts') and FINTRAC ML indicators (round sums atypical of the client). 5,000, "
            "whole thousands, third in 7 days: our calibration."
        ),
    ),
)


# --- Network rules ---------------------------------------------------------------------------
# Read the ``network`` feature provider (sentinel/network, docs/network.md): patterns that only
# show across accounts. Installed by rules migration 0007 (the pack above by 0002).

_CYCLE_SOURCE = (
    "FATF 'Trade-based money laundering' (2020) and Egmont Group case studies: round-tripping, "
    "funds returning to their originator through intermediaries. Three hops at least: a two-hop "
    "return (A pays B, B pays A back) is what a loan and its repayment look like. Up to 12 hops, "
    "7 days for a time-ordered trip, 35 days (the graph's window) for the same amount carried "
    "round: our calibration."
)
_LAYERING_SOURCE = (
    "FATF 'Professional money laundering' (2018) and FinCEN FIN-2014-A005: layering through "
    "chains of accounts, each passing the money on. Three hops is the smallest chain that is "
    "not a simple payment forwarded once; 'the same amount' as within 2% (fees), 'most' as 80% "
    "forwarded within 24 hours: our calibration."
)

NETWORK_PACK = (
    PackRule(
        code="network_cycle",
        name="Funds come back to their sender through three or more accounts",
        description=(
            "This transfer closes a cycle: the money it moves comes back to the account that "
            "sent it through 2 to 11 others, either hop after hop within 7 days or as the same "
            "amount (less fees) within 35 days."
        ),
        typologies=(Typology.CYCLE,),
        expression="network.in_cycle and network.cycle_length >= 3",
        severity=Severity.HIGH,
        score=70,
        outcome=RuleOutcome.REVIEW,
        source=_CYCLE_SOURCE,
    ),
    PackRule(
        code="network_amount_carried",
        name="The same amount moved through three or more accounts",
        description=(
            "This transfer is one hop of a path of at least three on which the same amount, less "
            "at most 2% per hop, moves from account to account within 35 days: layering by "
            "passing a sum along, whatever the order the hops were reported in. A path that "
            "closes into a cycle is left to network_cycle."
        ),
        typologies=(Typology.LAYERING,),
        expression="network.carried_hops >= 3 and not network.in_cycle",
        severity=Severity.HIGH,
        score=60,
        outcome=RuleOutcome.REVIEW,
        source=_LAYERING_SOURCE,
    ),
    PackRule(
        code="network_layering_chain",
        name="A chain of three or more accounts each forwarding what it received within a day",
        description=(
            "This transfer ends a chain of at least three hops in which each account sent on at "
            "least 80% of what it had just received, within 24 hours of receiving it. A chain "
            "that closes into a cycle is left to network_cycle."
        ),
        typologies=(Typology.LAYERING, Typology.PASS_THROUGH),
        expression="network.chain_depth >= 3 and not network.in_cycle",
        severity=Severity.HIGH,
        score=60,
        outcome=RuleOutcome.REVIEW,
        source=_LAYERING_SOURCE,
    ),
)

# --- Network rings, found by the scheduled window scan -----------------------------------------
# Not evaluated per transaction (their expression is ``false``): the scan (sentinel/network/
# window.py, run by the pipeline's beat task) raises their alerts, one per ring, on the ring's
# hub, naming every member and transfer. They are rules so that officers see them, own their
# severity and score, and switch them off like any other (only live ones alert). Installed as
# drafts by rules migration 0008, like the network rules above.

_RING_SOURCE = (
    "Window of 10 days: the longest of these shapes in the published typologies (FATF "
    "'Professional money laundering' 2018, Egmont case studies) runs over a week, and IBM's "
    "AML generator draws them over up to about 200 hours. A counterparty is new when the pair "
    "had no transfer in the graph before the window; 'many' as {count} new accounts: our "
    "calibration, to re-check on the partner's traffic (docs/network.md § The window scan)."
)
_NOT_PER_TRANSACTION = "false"  # raised by the window scan, never by a transaction's evaluation

NETWORK_RING_PACK = (
    PackRule(
        code="network_fan_in",
        name="Many new accounts pay one account within 10 days",
        description=(
            "Found by the scheduled window scan: at least 5 accounts that had never paid this "
            "account before paid it within 10 days (a funnel account). One alert per ring, on "
            "the collecting account, naming every payer and transfer."
        ),
        typologies=(Typology.FAN_IN,),
        expression=_NOT_PER_TRANSACTION,
        severity=Severity.HIGH,
        score=60,
        outcome=RuleOutcome.REVIEW,
        source="FinCEN FIN-2014-A005 (funnel accounts). " + _RING_SOURCE.format(count=5),
    ),
    PackRule(
        code="network_fan_out",
        name="One account pays many new accounts within 10 days",
        description=(
            "Found by the scheduled window scan: this account paid at least 5 accounts it had "
            "never paid before within 10 days (dispersal to many payees). One alert per ring, "
            "on the paying account, naming every payee and transfer."
        ),
        typologies=(Typology.FAN_OUT,),
        expression=_NOT_PER_TRANSACTION,
        severity=Severity.HIGH,
        score=60,
        outcome=RuleOutcome.REVIEW,
        source="Europol EMMA mule indicators. " + _RING_SOURCE.format(count=5),
    ),
    PackRule(
        code="network_gather_scatter",
        name="Many new accounts pay one account, which pays many new ones on",
        description=(
            "Found by the scheduled window scan: at least 3 new payers into this account, then "
            "at least 3 new payees out of it, within 10 days (many → one → many)."
        ),
        typologies=(Typology.FAN_IN, Typology.FAN_OUT, Typology.PASS_THROUGH),
        expression=_NOT_PER_TRANSACTION,
        severity=Severity.HIGH,
        score=70,
        outcome=RuleOutcome.REVIEW,
        source="FATF 'Professional money laundering' (2018), money-mule networks. "
        + _RING_SOURCE.format(count=3),
    ),
    PackRule(
        code="network_scatter_gather",
        name="One account's money reaches one other account through several intermediaries",
        description=(
            "Found by the scheduled window scan: at least 3 accounts each paid by the same "
            "source, then paying the same sink, within 10 days (one → many → one)."
        ),
        typologies=(Typology.LAYERING,),
        expression=_NOT_PER_TRANSACTION,
        severity=Severity.HIGH,
        score=70,
        outcome=RuleOutcome.REVIEW,
        source="FATF 'Professional money laundering' (2018), layering through intermediaries. "
        + _RING_SOURCE.format(count=3),
    ),
    PackRule(
        code="network_bipartite",
        name="A set of accounts paying a set of other accounts",
        description=(
            "Found by the scheduled window scan: at least 3 senders and 3 receivers, new to "
            "each other, each sender paying two or more of the receivers and each receiver "
            "paid by two or more of the senders, within 10 days."
        ),
        typologies=(Typology.LAYERING,),
        expression=_NOT_PER_TRANSACTION,
        severity=Severity.HIGH,
        score=60,
        outcome=RuleOutcome.REVIEW,
        source="FATF 'Professional money laundering' (2018), coordinated mule networks. "
        + _RING_SOURCE.format(count=3),
    ),
    PackRule(
        code="network_stack",
        name="Layers of accounts paying on to further layers",
        description=(
            "Found by the scheduled window scan: a set of senders paying a set of receivers "
            "(as network_bipartite), two or more of which pay on within the set after they "
            "were paid: stacked layers."
        ),
        typologies=(Typology.LAYERING,),
        expression=_NOT_PER_TRANSACTION,
        severity=Severity.HIGH,
        score=70,
        outcome=RuleOutcome.REVIEW,
        source="FATF 'Professional money laundering' (2018), layering. "
        + _RING_SOURCE.format(count=3),
    ),
)

# --- Proximity to known-bad accounts -------------------------------------------------------------
# Reads network.hops_to_flagged and network.flagged_counterparty (docs/network.md § Proximity):
# seeds are watch-listed accounts, accounts in filed SARs and accounts the partner confirmed as
# fraud. Installed as a draft by rules migration 0009, like the other network rules.

_PROXIMITY_SOURCE = (
    "FATF Recommendation 10 (ongoing due diligence: scrutiny of transactions in the light of "
    "what is known of the relationship) and Europol EMMA mule indicators: funds moved with an "
    "account already reported or confirmed bad, or one step from it, are how a mule network "
    "continues after one of its accounts is caught. One hop: a counterparty of a known-bad "
    "account; 3,000 in the transaction's currency as 'a meaningful amount', the pack's fan-in "
    "calibration (docs/detection.md); our calibration, to back-test on the partner's traffic."
)

NETWORK_PROXIMITY_PACK = (
    PackRule(
        code="network_near_flagged",
        name="Money moved with a known-bad account, or with one of its counterparties",
        description=(
            "The counterparty is known bad (on a watch list, in a filed SAR, or confirmed fraud "
            "by the partner), whatever the amount; or the customer's account is itself known "
            "bad or a direct counterparty of one within the graph's window, and the transfer "
            "moves 3,000 or more. A payment processor or other account with more than 50 "
            "counterparties passes no proximity on."
        ),
        typologies=(Typology.PROXIMITY,),
        expression=(
            "network.flagged_counterparty or (network.hops_to_flagged != null and "
            "network.hops_to_flagged <= 1 and amount >= 3000)"
        ),
        severity=Severity.MEDIUM,
        score=50,
        outcome=RuleOutcome.REVIEW,
        source=_PROXIMITY_SOURCE,
        transaction_types=(*_TRANSFERS, T.ACH),
    ),
)

# --- Value loops and U-turns (rules migration 0010, drafts like the other network rules) --------

_VALUE_LOOP_SOURCE = (
    "FATF 'Trade-based money laundering' (2020) and Egmont Group case studies: round-tripping "
    "through intermediaries, each moving the funds on in its own time and currency, the value "
    "kept less exchange spreads, fees and the launderers' cut. 7 days (the round trip's week) "
    "and hop values within 25 % of each other in one currency: our calibration."
)
_U_TURN_SOURCE = (
    "Wolfsberg and FFIEC red flags for U-turn transactions: funds sent out and returned to the "
    "originator soon after, at about the same value, often in another currency. A loan repaid "
    "looks the same, so only 3,000 or more in the reporting currency (the pack's 'money that "
    "matters'), within 7 days, the values within 25 %: our calibration."
)

NETWORK_VALUE_PACK = (
    PackRule(
        code="network_value_loop",
        name="The same value comes back to its sender through three or more accounts",
        description=(
            "This transfer closes a cycle of three or more accounts whose hops all fall within "
            "7 days, in any order, and whose values, compared in one currency, lie within 25 % "
            "of each other: the money went round, each intermediary moving it on in its own "
            "time and currency. A cycle network_cycle already names is left to it."
        ),
        typologies=(Typology.CYCLE,),
        expression="network.loop_length >= 3 and not network.in_cycle",
        severity=Severity.HIGH,
        score=70,
        outcome=RuleOutcome.REVIEW,
        source=_VALUE_LOOP_SOURCE,
    ),
    PackRule(
        code="network_u_turn",
        name="Money sent out comes straight back at about the same value",
        description=(
            "This transfer returns to the account that sent it money within 7 days (A pays B, "
            "B pays A back), the two values within 25 % of each other in one currency, and "
            "moves 3,000 or more in the reporting currency."
        ),
        typologies=(Typology.CYCLE,),
        expression=(
            "network.cycle_length == 2 and network.cycle_days <= 7 and "
            "network.cycle_value_spread != null and network.cycle_value_spread <= 25 and "
            "amount_base != null and amount_base >= 3000"
        ),
        severity=Severity.MEDIUM,
        score=50,
        outcome=RuleOutcome.REVIEW,
        source=_U_TURN_SOURCE,
        transaction_types=(*_TRANSFERS, T.ACH),
    ),
)

# --- Revisions: shipped changes to installed rules ----------------------------------------------
# Each becomes its rule's next version through a migration (``pack_revise``); the rule as first
# installed stays above, as the migrations that install it read it.


@dataclass(frozen=True)
class PackRevision:
    """A shipped change to a pack rule: the version it replaces and the one it becomes."""

    before: PackRule
    after: PackRule
    comment: str  # why, in the new version's history


def _shipped(code: str) -> PackRule:
    return next(rule for rule in PACK if rule.code == code)


_FAN_IN = _shipped("fan_in_many_senders")
_RECEIVED = f'by="account", within="48h", direction="inbound", type={_MOVES}'

# Rules migration 0011. A sole trader paid by clients through p2p who also received savings
# sold at the broker that day (a house deposit) reached 8 senders and 3,000 with that one
# credit: version 1 called a few hundred from the clients a collection.
FAN_IN_NOT_ONE_CREDIT = PackRevision(
    before=_FAN_IN,
    after=replace(
        _FAN_IN,
        description=(
            "Many different people paying a significant sum into one account within two days: "
            "a collection (funnel) account or a money mule. The sum keeps out sole traders "
            "paid small amounts by their clients, and it must be the many senders' money: when "
            "one credit brings more than half of it (savings sold, a loan, a car sold), the "
            "others must bring 3,000 on their own."
        ),
        expression=(
            'direction == "inbound"\n'
            f'and distinct("counterparty", {_RECEIVED}) >= 8\n'
            f"and sum(amount, {_RECEIVED}) >= 3000\n"
            "# not one large credit: the largest brings at most half, or the others 3,000\n"
            f"and (max(amount, {_RECEIVED}) <= 0.5 * sum(amount, {_RECEIVED})\n"
            f"     or sum(amount, {_RECEIVED}) - max(amount, {_RECEIVED}) >= 3000)"
        ),
        source=(
            f"{_FAN_IN.source} 'The many senders' money' as no credit over half the sum unless "
            "the others bring 3,000 themselves: our calibration."
        ),
    ),
    comment=(
        "Shipped with Sentinel (rules migration 0011): one large credit no longer makes a "
        "collection of a sole trader's small client payments; a collection with a large "
        "credit added still fires."
    ),
)
REVISIONS = (FAN_IN_NOT_ONE_CREDIT,)

EVERY_RULE = (
    *PACK,
    *NETWORK_PACK,
    *NETWORK_RING_PACK,
    *NETWORK_PROXIMITY_PACK,
    *NETWORK_VALUE_PACK,
)


def pack_install(apps, pack: tuple[PackRule, ...], *, status: str = "draft") -> None:
    """A migration's step: install the pack's rules at version one with ``status``, skipping
    codes that exist. The network rules are drafts (network analytics is off by default, so an
    officer puts them live through the four-eyes flow once it is on, docs/network.md); the
    screening rules start in shadow."""
    Rule = apps.get_model("rules", "Rule")
    RuleVersion = apps.get_model("rules", "RuleVersion")
    for pack_rule in pack:
        if Rule.objects.filter(code=pack_rule.code).exists():
            continue
        rule = Rule.objects.create(code=pack_rule.code, status="draft")
        version = RuleVersion.objects.create(
            rule=rule, number=1, author=None, comment=INSTALL_COMMENT, **pack_rule.version_fields()
        )
        rule.version, rule.status = version, status
        rule.save(update_fields=["version", "status"])


def pack_revise(apps, revisions: tuple[PackRevision, ...]) -> None:
    """A migration's step: each revision becomes its rule's next version, in effect at once with
    the rule's status kept, where the version in effect is still exactly the one it replaces and
    nothing about the rule awaits approval. A rule officers have changed is theirs: left alone
    (docs/detection.md says what each revision changes, for them to weigh)."""
    Rule = apps.get_model("rules", "Rule")
    RuleVersion = apps.get_model("rules", "RuleVersion")
    RuleChange = apps.get_model("rules", "RuleChange")
    for revision in revisions:
        rule = Rule.objects.select_for_update().filter(code=revision.after.code).first()
        current = rule.version if rule is not None else None
        if (
            current is None
            or not _as_shipped(current, revision.before)
            or rule.versions.filter(number__gt=current.number).exists()
            or RuleChange.objects.filter(rule=rule, state="pending").exists()
        ):
            continue
        version = RuleVersion(
            rule=rule,
            number=current.number + 1,
            author=None,
            comment=revision.comment,
            **revision.after.version_fields(),
        )
        version.diff = version_diff(current, version, partners=[])
        version.save()
        rule.version = version
        rule.save(update_fields=["version", "updated_at"])


def _as_shipped(version, pack_rule: PackRule) -> bool:
    """The version says exactly what the pack shipped, for every partner."""
    shipped = pack_rule.version_fields()
    return (
        all(getattr(version, name) == shipped[name] for name in VERSION_CONTENT)
        and not version.partners.exists()
    )
