"""Admin forms that route writes through services."""

from django import forms

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
