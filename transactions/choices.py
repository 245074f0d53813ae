"""The enumerations of the ingest contract (../shared/contract.md)."""

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


class RiskRating(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


# Types where the partner's customer receives the money unless the request says otherwise.
INBOUND_BY_DEFAULT = frozenset({TransactionType.CASH_DEPOSIT, TransactionType.REFUND})
