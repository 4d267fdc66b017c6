"""Query-string filters of the lists. Unknown parameters are ignored; a known one with a bad
value is a 400 that names it."""

from datetime import date

import django_filters
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from deliveries.models import Delivery
from donations.models import Fundraiser
from hubs.models import Category, Hub, Place, SupplyRequest
from ledger.models import LedgerEntry
from ledger.presentation import KIND_LABELS
from ledger.queries import Filters, filtered_entries
from ledger.schemas import REF

# Dates at the very ends of the calendar cannot be turned into UTC times; no entry is there.
DATE_RANGE = [MinValueValidator(date(1900, 1, 1)), MaxValueValidator(date(9000, 12, 31))]
SLUG_HELP = "A public id (slug), as in the object's `slug` field."


def _slug(field_name: str, help_text: str = SLUG_HELP) -> django_filters.CharFilter:
    return django_filters.CharFilter(field_name=field_name, max_length=64, help_text=help_text)


class HubFilter(django_filters.FilterSet):
    region = _slug("region__slug", "Region slug, e.g. `bishkek`.")
    kind = django_filters.ChoiceFilter(choices=Hub.Kind.choices)

    class Meta:
        model = Hub
        fields = ["region", "kind"]


class PlaceFilter(django_filters.FilterSet):
    region = _slug("region__slug", "Region slug, e.g. `batken`.")
    kind = django_filters.ChoiceFilter(choices=Place.Kind.choices)

    class Meta:
        model = Place
        fields = ["region", "kind"]


class RequestFilter(django_filters.FilterSet):
    region = _slug("place__region__slug", "Region slug of the place, e.g. `batken`.")
    place = _slug("place__slug", "Place slug, e.g. `ak-sai`.")
    hub = _slug("hub__slug", "Slug of the hub that handles the request.")
    category = django_filters.ChoiceFilter(
        choices=Category.choices, method="by_category", help_text="Requests for this category."
    )
    urgency = django_filters.TypedChoiceFilter(
        choices=SupplyRequest.Urgency.choices,
        coerce=int,
        lookup_expr="lte",
        help_text="At least this urgent: 1 critical only, 2 critical and high, 3 all.",
    )

    class Meta:
        model = SupplyRequest
        fields = ["region", "place", "hub", "category", "urgency"]

    def by_category(self, requests: QuerySet, name: str, value: str) -> QuerySet:
        return requests.filter(lines__item__category=value).distinct()


class FundraiserFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Fundraiser.Status.choices)
    region = _slug("region__slug", "Region helped, e.g. `batken`.")

    class Meta:
        model = Fundraiser
        fields = ["status", "region"]


class DeliveryFilter(django_filters.FilterSet):
    hub = _slug("hub__slug", "Slug of the hub it left from.")
    place = _slug("place__slug", "Slug of the place it reached.")
    fundraiser = django_filters.CharFilter(
        field_name="fundraisers__slug",
        max_length=64,
        distinct=True,
        help_text="Slug of a fundraiser that paid for the goods.",
    )

    class Meta:
        model = Delivery
        fields = ["hub", "place", "fundraiser"]


def _ref(help_text: str) -> django_filters.CharFilter:
    # A ref that can never match is refused, like on the /ledger/ page's form.
    return django_filters.CharFilter(
        max_length=64, help_text=help_text, validators=[_ref_validator], method="keep"
    )


def _ref_validator(value: str) -> None:
    if value and not REF.match(value):
        raise ValidationError(_("Use lower-case letters, digits, dots, dashes or underscores."))


class LedgerEntryFilter(django_filters.FilterSet):
    """The /ledger/ page's filters, applied by `ledger.queries.filtered_entries`."""

    fundraiser = _ref("Fundraiser slug, e.g. `almaty-for-batken-2022`.")
    hub = _ref("Hub slug, e.g. `sports-palace`.")
    place = _ref("Place slug, e.g. `isfana`.")
    kind = django_filters.ChoiceFilter(
        choices=[(k, k) for k in KIND_LABELS], method="keep", help_text="Kind of entry."
    )
    since = django_filters.DateFilter(
        method="keep", validators=DATE_RANGE, help_text="From this date (site time zone)."
    )
    until = django_filters.DateFilter(
        method="keep", validators=DATE_RANGE, help_text="To this date, inclusive."
    )

    class Meta:
        model = LedgerEntry
        fields = ["fundraiser", "hub", "place", "kind", "since", "until"]

    def keep(self, entries: QuerySet, name: str, value: object) -> QuerySet:
        return entries  # applied together in filter_queryset

    def filter_queryset(self, queryset: QuerySet[LedgerEntry]) -> QuerySet[LedgerEntry]:
        data = self.form.cleaned_data
        filters = Filters(
            fundraiser=data.get("fundraiser") or "",
            hub=data.get("hub") or "",
            place=data.get("place") or "",
            kind=data.get("kind") or "",
            since=data.get("since"),
            until=data.get("until"),
        )
        return queryset & filtered_entries(filters)
