from decimal import Decimal

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from .models import MAX_QUANTITY, Category, Hub, Item, Membership, Place, SupplyRequest


class ItemLineForm(forms.Form):
    item = forms.ModelChoiceField(
        label=_("Item"), queryset=Item.objects.all(), required=False, empty_label="—"
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        required=False,
        max_digits=12,
        decimal_places=3,
        min_value=Decimal("0.001"),
        max_value=MAX_QUANTITY,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("item") and data.get("quantity") is None:
            self.add_error("quantity", _("How many?"))
        if data.get("quantity") is not None and not data.get("item"):
            self.add_error("item", _("Which item?"))
        return data


class BaseLineFormSet(forms.BaseFormSet):
    def lines(self) -> list[tuple[Item, Decimal]]:
        return [
            (form.cleaned_data["item"], form.cleaned_data["quantity"])
            for form in self.forms
            if form.cleaned_data.get("item")
        ]

    def clean(self):
        if any(self.errors):
            return
        if not self.lines():
            raise forms.ValidationError(_("List at least one item."))


LineFormSet = formset_factory(ItemLineForm, formset=BaseLineFormSet, extra=4, max_num=30)


def line_formset(data=None, initial=None) -> BaseLineFormSet:
    return LineFormSet(data, initial=initial, prefix="lines")


class ReceiveForm(forms.Form):
    public_name = forms.CharField(
        label=_("Donor's public name (optional)"),
        required=False,
        max_length=120,
        help_text=_("Only if the donor asked to be named in public. Leave empty for anonymous."),
    )


class RequestForm(forms.ModelForm):
    class Meta:
        model = SupplyRequest
        fields = ["place", "urgency", "needed_by", "note", "requester_contact"]
        widgets = {"needed_by": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = Place.objects.select_related("region")
        self.fields["place"].label_from_instance = lambda p: f"{p.name} ({p.region})"


class TransferForm(forms.Form):
    to_hub = forms.ModelChoiceField(label=_("To hub"), queryset=Hub.objects.filter(is_active=True))


class AdjustForm(forms.Form):
    item = forms.ModelChoiceField(label=_("Item"), queryset=Item.objects.all())
    delta = forms.DecimalField(
        label=_("Difference"),
        max_digits=12,
        decimal_places=3,
        help_text=_("Positive if you found more, negative if goods were lost or spoiled."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why is it cancelled?"), max_length=200)


class NeedsFilterForm(forms.Form):
    region = forms.SlugField(label=_("Region"), required=False)
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All")), *Category.choices]
    )
    urgency = forms.TypedChoiceField(
        label=_("Urgency"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any")), *SupplyRequest.Urgency.choices],
    )


class MembershipInviteForm(forms.Form):
    """A coordinator invites a volunteer by the exact username or e-mail the volunteer gave
    them. The form never says whether an account has it (hubs.services.membership_invite)."""

    person = forms.CharField(
        label=_("Username or e-mail"),
        max_length=254,
        help_text=_(
            "Exactly as the volunteer gave it to you. They get an e-mail and join once they accept."
        ),
    )
    hub = forms.ModelChoiceField(label=_("Hub"), queryset=Hub.objects.none())
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[(Membership.Role.VOLUNTEER.value, Membership.Role.VOLUNTEER.label)],
        initial=Membership.Role.VOLUNTEER.value,
    )

    def __init__(self, *args, hubs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hub"].queryset = hubs
