"""Admin forms that route writes through services, and the money-flow hop's parameters."""

from django import forms

from .flows import FlowDirection
from .models import AccountProfile, validate_network


class ApiKeyCreateForm(forms.Form):
    label = forms.CharField(max_length=100, required=False)
    allowed_networks = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional: one IP address or CIDR network per line. Empty allows any address.",
    )

    def clean_allowed_networks(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["allowed_networks"].splitlines()]
        networks = [line for line in lines if line]
        for network in networks:
            validate_network(network)
        return networks


class AccountProfileForm(forms.ModelForm):
    class Meta:
        model = AccountProfile
        fields = ["risk_rating", "single_transaction_limit", "daily_limit", "limit_currency"]


class MoneyFlowHopForm(forms.Form):
    """The query of a money-flow hop: which account, which way, from when."""

    account = forms.CharField(
        max_length=64,
        error_messages={
            "required": "Give the account to follow (account=<the partner's account id>).",
            "max_length": "An account id has at most 64 characters.",
        },
    )
    direction = forms.ChoiceField(
        choices=[(d.value, d.value) for d in FlowDirection],
        error_messages={
            "required": "Give the direction: forward (where the money went) or backward "
            "(where it came from).",
            "invalid_choice": "The direction is forward (where the money went) or backward "
            "(where it came from), not %(value)s.",
        },
    )
    at = forms.DateTimeField(
        error_messages={
            "required": "Give the time to follow the money from (at=<ISO 8601 date and time>).",
            "invalid": "The time is an ISO 8601 date and time, e.g. 2026-03-01T14:30:00+00:00.",
        },
    )

    def clean_at(self):
        at = self.cleaned_data["at"]
        if not 1900 <= at.year <= 2999:  # a horizon away from it must still be a date
            raise forms.ValidationError("The time is between the years 1900 and 2999.")
        return at

    def problems(self) -> str:
        """Every error, one sentence per parameter: the 400's message."""
        return " ".join(f"{name}: {' '.join(errors)}" for name, errors in self.errors.items())
