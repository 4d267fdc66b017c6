from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import services
from .models import Channel, Scope


class PublicSubscribeForm(forms.Form):
    """A donor, without an account, follows a fundraiser (or a mirror follows the ledger)."""

    scope = forms.ChoiceField(
        choices=[(Scope.FUNDRAISER, ""), (Scope.LEDGER, "")], widget=forms.HiddenInput
    )
    ref = forms.SlugField(widget=forms.HiddenInput, required=False)
    channel = forms.ChoiceField(
        label=pgettext_lazy("notification channel", "How"),
        choices=Channel.choices,
        initial=Channel.EMAIL,
        widget=forms.RadioSelect,
    )
    address = forms.CharField(
        label=_("E-mail address or webhook URL"),
        required=False,
        max_length=300,
        help_text=_("Leave empty for Telegram: you will get a code to send to our bot."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A webhook follows the whole ledger (mirrors, witnesses); a donor following one
        # fundraiser is offered e-mail and Telegram only, also when the form comes back.
        if self.data.get("scope") != Scope.LEDGER:
            self.fields["channel"].choices = [
                (value, label) for value, label in Channel.choices if value != Channel.WEBHOOK
            ]
            self.fields["address"].label = _("E-mail address")

    def clean(self):
        data = super().clean()
        if data.get("channel") in (Channel.EMAIL, Channel.WEBHOOK) and not data.get("address"):
            self.add_error("address", _("Enter where to send the messages."))
        # A made-up ref would let anyone have an address mailed once per ref they invent.
        ref = data.get("ref")  # absent when the field refused it: that error says enough
        known = bool(ref) and services.subject_exists(Scope.FUNDRAISER, ref)
        if data.get("scope") == Scope.FUNDRAISER and "ref" in data and not known:
            self.add_error(None, _("There is no such fundraiser."))
        return data


class MySubscribeForm(forms.Form):
    scope = forms.ChoiceField(
        label=pgettext_lazy("subscription topic", "About"),
        choices=[
            (Scope.REGION, _("A region")),
            (Scope.HUB, _("A hub")),
            (Scope.URGENCY, _("Requests of a given urgency or higher")),
            (Scope.FUNDRAISER, _("A fundraiser")),
        ],
    )
    ref = forms.CharField(
        label=pgettext_lazy("subscription topic", "Which"),
        max_length=64,
        help_text=_(
            "The public id shown in the page address, e.g. batken; for urgency 1 "
            "(critical) or 2 (high and critical)."
        ),
    )
    channel = forms.ChoiceField(
        label=pgettext_lazy("notification channel", "How"),
        choices=[(Channel.EMAIL, _("E-mail")), (Channel.TELEGRAM, _("Telegram"))],
    )
