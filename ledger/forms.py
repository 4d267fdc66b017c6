from django import forms
from django.utils.translation import gettext_lazy as _

from .presentation import KIND_LABELS
from .queries import Filters
from .schemas import REF


def _ref_field() -> forms.RegexField:
    return forms.RegexField(regex=REF, required=False, widget=forms.HiddenInput)


class LedgerFilterForm(forms.Form):
    fundraiser = _ref_field()
    hub = _ref_field()
    place = _ref_field()
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *KIND_LABELS.items()]
    )
    since = forms.DateField(
        label=_("From date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def filters(self) -> Filters:
        return Filters(**{name: value or "" for name, value in self.cleaned_data.items()} | {
            "since": self.cleaned_data.get("since"),
            "until": self.cleaned_data.get("until"),
        })  # fmt: skip
