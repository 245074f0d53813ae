"""The enumerations of the ingest contract (../shared/contract.md) and of labels."""

from decimal import Decimal

from django.db import models


class TransactionType(models.TextChoices):
    TRANSFER = "transfer", "Transfer"
    WIRE = "wire", "Wire"
    ACH = "ach", "ACH"
    P2P = "p2p", "Peer to peer"
    CARD_PAYMENT = "card_payment", "Card payment"
    CASH_DEPOSIT = "cash_deposit", "Cash deposit"
    CASH_WITHDRAWAL = "cash_withdrawal", "Cash withdrawal"
    REFUND = "refund", "Refund"


class TransactionStatus(models.TextChoices):
    APPROVED = "approved", "Approved"
    FAILED = "failed", "Failed"
    DENIED = "denied", "Denied"
    REVERSED = "reversed", "Reversed"


class Direction(models.TextChoices):
    """Which side is the partner's own customer."""

    OUTBOUND = "outbound", "Outbound (customer is the originator)"
    INBOUND = "inbound", "Inbound (customer is the beneficiary)"


class Channel(models.TextChoices):
    WEB = "web", "Web"
    MOBILE = "mobile", "Mobile"
    BRANCH = "branch", "Branch"
    ATM = "atm", "ATM"
    POS = "pos", "Point of sale"
    API = "api", "API"
    OTHER = "other", "Other"


class RateSource(models.TextChoices):
    """Who published an exchange rate. On the same day, a rate entered by hand wins over an
    imported one (transactions.selectors § Exchange rates)."""

    MANUAL = "manual", "Entered by staff"
    ECB = "ecb", "ECB euro reference rate"


class RiskRating(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


# Types where the partner's customer receives the money unless the request says otherwise.
INBOUND_BY_DEFAULT = frozenset({TransactionType.CASH_DEPOSIT, TransactionType.REFUND})


class LabelSource(models.TextChoices):
    """Who said what a transaction turned out to be (docs/detection.md § Labels)."""

    PARTNER_FEEDBACK = "partner_feedback", "Partner feedback"
    CASE_DISPOSITION = "case_disposition", "Case disposition"
    ALERT_DISMISSAL = "alert_dismissal", "Alert dismissal"


class LabelOutcome(models.TextChoices):
    """What a transaction turned out to be. ``suspicious`` is our own investigators' finding
    (a case closed with a report or an exit); partners send the other four."""

    CONFIRMED_FRAUD = "confirmed_fraud", "Confirmed fraud"
    CHARGEBACK = "chargeback", "Chargeback"
    SUSPICIOUS = "suspicious", "Suspicious"
    LEGITIMATE = "legitimate", "Legitimate"
    UNKNOWN = "unknown", "Unknown"


# The outcomes a partner may send (the contract's feedback endpoint).
PARTNER_OUTCOMES = (
    LabelOutcome.CONFIRMED_FRAUD,
    LabelOutcome.CHARGEBACK,
    LabelOutcome.LEGITIMATE,
    LabelOutcome.UNKNOWN,
)
# Which side of the line each outcome falls on for training: 1 bad, 0 good, None no label.
OUTCOME_POLARITY = {
    LabelOutcome.CONFIRMED_FRAUD: 1,
    LabelOutcome.CHARGEBACK: 1,
    LabelOutcome.SUSPICIOUS: 1,
    LabelOutcome.LEGITIMATE: 0,
    LabelOutcome.UNKNOWN: None,
}


class LabelWeight:
    """How far a label of each kind is trusted, 0 to 1 (docs/detection.md § Labels says why).
    The outcome says which way a label points; the weight, how sure it is."""

    PARTNER_FEEDBACK = Decimal("1.00")  # the bank holding the account saw what happened
    CASE_SAR_FILED = Decimal("0.90")  # investigated and reported to the regulator
    CASE_CUSTOMER_EXITED = Decimal("0.50")  # investigated; exited for risk, maybe not this payment
    CASE_CLEARED = Decimal("0.60")  # investigated and closed as false positive or no action
    ALERT_DISMISSED = Decimal("0.20")  # triaged without a case: a glance, not an investigation
