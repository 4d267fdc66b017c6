from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from aidhub.uploads import clean_image
from donations.models import Fundraiser
from groups import queries as group_queries
from groups.models import Group
from hubs.models import Place, SupplyRequest

from .services import MAX_PHOTOS

OPEN = [SupplyRequest.Status.OPEN, SupplyRequest.Status.PARTLY]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files:
            raise forms.ValidationError(_("Add at least one photo."), code="required")
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(
                _("Add at most %(n)s photos.") % {"n": MAX_PHOTOS}, code="too_many"
            )
        return [clean_image(super(PhotosField, self).clean(f, initial)) for f in files]


class ReportForm(forms.Form):
    photos = PhotosField(label=_("Photos of the handover"))
    people = forms.IntegerField(
        label=_("People who received"),
        min_value=1,
        max_value=1_000_000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    households = forms.IntegerField(
        label=_("Households (optional)"),
        min_value=1,
        max_value=1_000_000,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("No names or phone numbers of the people who received."),
    )


class FailForm(forms.Form):
    reason = forms.CharField(label=_("What happened?"), max_length=200)
    returned = forms.BooleanField(label=_("The goods came back to the hub"), required=False)


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Why is the proof rejected?"), max_length=200)


class HandoverConfirmForm(forms.Form):
    code = forms.CharField(
        label=_("Code shown on the volunteer's phone"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    role = forms.CharField(
        label=_("Your role (optional)"),
        required=False,
        max_length=80,
        help_text=_("For example: village head, centre manager. Not your name."),
    )


class PlanForm(forms.Form):
    place = forms.ModelChoiceField(
        label=_("To place"), queryset=Place.objects.select_related("region")
    )
    requests = forms.ModelMultipleChoiceField(
        label=_("Answers requests"),
        required=False,
        queryset=SupplyRequest.objects.filter(status__in=OPEN).select_related("place"),
        widget=forms.CheckboxSelectMultiple,
    )
    fundraisers = forms.ModelMultipleChoiceField(
        label=_("Goods paid by"),
        required=False,
        queryset=Fundraiser.objects.all(),
        widget=forms.CheckboxSelectMultiple,
    )
    vehicle_note = forms.CharField(label=_("Vehicle (optional)"), required=False, max_length=120)


class PurchasePlanForm(forms.Form):
    """Where a purchase's goods go, and who carries them (the lines are a formset beside)."""

    place = forms.ModelChoiceField(
        label=_("To place"), queryset=Place.objects.select_related("region")
    )
    volunteer = forms.ModelChoiceField(
        label=_("Carried by (optional)"),
        required=False,
        queryset=get_user_model().objects.none(),
        help_text=_("A member of the group. Leave it empty and any member can take it."),
    )
    requests = forms.ModelMultipleChoiceField(
        label=_("Answers requests"),
        required=False,
        queryset=SupplyRequest.objects.filter(status__in=OPEN).select_related("place"),
        widget=forms.CheckboxSelectMultiple,
    )
    vehicle_note = forms.CharField(label=_("Vehicle (optional)"), required=False, max_length=120)

    def __init__(self, *args, group: Group, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].label_from_instance = lambda p: f"{p.name} ({p.region})"
        members = group_queries.active_members().filter(group=group).values("user_id")
        volunteer = self.fields["volunteer"]
        volunteer.queryset = get_user_model().objects.filter(pk__in=members).order_by("username")
        volunteer.label_from_instance = lambda u: u.get_full_name() or u.get_username()
