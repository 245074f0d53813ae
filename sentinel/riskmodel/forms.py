"""The governance forms of the model pages: each step takes an optional comment, kept on the
change (why it should go live, why it was rejected, why the model was rolled back)."""

from __future__ import annotations

from django import forms


class ModelChangeCommentForm(forms.Form):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        strip=True,
    )
