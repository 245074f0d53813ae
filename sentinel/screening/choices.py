from django.db import models


class ListSource(models.TextChoices):
    """The published formats a screening list is imported from (formats/)."""

    OFAC_SDN = "ofac_sdn", "OFAC SDN (XML)"
    EU = "eu", "EU consolidated financial sanctions (XML)"
    UN = "un", "UN Security Council consolidated (XML)"
    OFSI = "ofsi", "UK OFSI consolidated (CSV)"
    OPENSANCTIONS = "opensanctions", "OpenSanctions simplified targets (CSV)"


class ListKind(models.TextChoices):
    SANCTIONS = "sanctions", "Sanctions"
    PEP = "pep", "Politically exposed persons"


class EntryType(models.TextChoices):
    PERSON = "person", "Person"
    ENTITY = "entity", "Entity"
    VESSEL = "vessel", "Vessel"
    AIRCRAFT = "aircraft", "Aircraft"


class NameStrength(models.TextChoices):
    """Strong aliases identify; weak ones (OFAC's "weak AKA", UN's "low quality") only support."""

    STRONG = "strong", "Strong"
    WEAK = "weak", "Weak"


class ChangeAction(models.TextChoices):
    ADDED = "added", "Added"
    CHANGED = "changed", "Changed"
    REMOVED = "removed", "Removed"


class RemovalState(models.TextChoices):
    """An import's removals: pending until a second officer approves them (four eyes)."""

    NONE = "none", "No removals"
    PENDING = "pending", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class PartyKind(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    COUNTERPARTY = "counterparty", "Counterparty"
