"""The site's one search box: places, hubs, items, open requests and fundraisers by name, in
any of the UI languages, whatever language the reader reads in.

Only public rows, through each app's public query, and only their names: never a requester's
contact, a donor, an organiser or an account. Each kind answers at most PER_KIND rows in a
fixed number of queries, so a search costs the same whatever it finds.

Case: SQLite's LIKE (and LOWER) fold ASCII only, so "исфана" would miss "Исфана". On SQLite
the names are matched with Django's REGEXP, which runs Python's `re` (Unicode case-insensitive);
PostgreSQL's ILIKE folds Unicode in a UTF-8 database.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _
from modeltranslation.translator import NotRegistered, translator

from aidhub.pagecache import version_forget, version_token
from donations.models import Fundraiser
from donations.queries import public_fundraisers
from hubs.freshness import NEEDS_SECONDS, needs_version
from hubs.models import Hub, Item, Place, SupplyRequest, SupplyRequestLine
from hubs.queries import NeedsFilter, open_requests, public_hubs
from ledger.presentation import names_version

MIN_LENGTH = 2
MAX_LENGTH = 100
PER_KIND = 10

# What a search finds is kept in the cache (a {% fragment %} of search.html) under the versions
# of what it shows: requests, hubs and places (needs_version), names (names_version) and
# fundraisers, whose saves (the admin) forget FUNDRAISERS_VERSION_KEY.
FUNDRAISERS_VERSION_KEY = "search:fundraisers:version"
SECONDS = NEEDS_SECONDS


def version() -> str:
    fundraisers = version_token(FUNDRAISERS_VERSION_KEY, seconds=SECONDS)
    return f"{needs_version()}|{names_version()}|{fundraisers}"


def fundraisers_changed(**kwargs: object) -> None:
    """A fundraiser was saved or deleted (a signal receiver)."""
    version_forget(FUNDRAISERS_VERSION_KEY)


def search_query(raw: str) -> str:
    """The text to look for: spaces collapsed, NFC, at most MAX_LENGTH characters; "" for an
    empty box. Refused (ValidationError) with control characters or under MIN_LENGTH."""
    if any(unicodedata.category(char) == "Cc" for char in raw):
        raise ValidationError(
            _("A search cannot contain control characters such as tabs or NUL."), code="control"
        )
    text = " ".join(unicodedata.normalize("NFC", raw).split())[:MAX_LENGTH].strip()
    if 0 < len(text) < MIN_LENGTH:
        raise ValidationError(
            _("Type at least %(count)d characters to search.") % {"count": MIN_LENGTH},
            code="short",
        )
    return text


def name_columns(model: type[Model], name: str) -> list[str]:
    """Every column that holds `name`: one per language when django-modeltranslation translates
    it (registering a field there is all it takes for search to look in each language)."""
    try:
        translated = name in translator.get_options_for_model(model).all_fields
    except NotRegistered:
        translated = False
    if not translated:
        return [name]
    return [f"{name}_{code.replace('-', '_')}" for code, _label in settings.LANGUAGES]


def _contains(column: str, text: str) -> Q:
    if connection.vendor == "sqlite":
        return Q(**{f"{column}__iregex": re.escape(text)})
    return Q(**{f"{column}__icontains": text})


def _named(model: type[Model], name: str, text: str, prefix: str = "") -> Q:
    return reduce(or_, (_contains(prefix + c, text) for c in name_columns(model, name)))


def _first(rows: QuerySet, *order: str) -> list:
    return list(rows.order_by(*order)[:PER_KIND]) if order else list(rows[:PER_KIND])


def places(text: str) -> list[Place]:
    rows = Place.objects.select_related("region").filter(_named(Place, "name", text))
    return _first(rows, "name_en", "pk")


def hubs(text: str) -> list[Hub]:
    return _first(public_hubs().filter(_named(Hub, "name", text)), "name_en", "pk")


def items(text: str) -> list[Item]:
    return _first(Item.objects.filter(_named(Item, "name", text)), "name_en", "pk")


def requests(text: str) -> list[SupplyRequest]:
    """Open requests from a place, or asking for an item, with a matching name; the most
    urgent first, as on the needs board."""
    asking = SupplyRequestLine.objects.filter(_named(Item, "name", text, "item__"))
    matching = _named(Place, "name", text, "place__") | Q(pk__in=asking.values("request_id"))
    return _first(open_requests(NeedsFilter()).filter(matching))


def fundraisers(text: str) -> list[Fundraiser]:
    """Collecting first, then the newest (as the fundraisers' list)."""
    return _first(public_fundraisers().filter(_named(Fundraiser, "title", text)))


@dataclass
class Results:
    text: str = ""
    places: list = field(default_factory=list)
    hubs: list = field(default_factory=list)
    items: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    fundraisers: list = field(default_factory=list)

    @property
    def found(self) -> bool:
        return any([self.places, self.hubs, self.items, self.requests, self.fundraisers])


def search(text: str) -> Results:
    """Everything public named like `text` (already checked by search_query)."""
    if not text:
        return Results()
    return Results(
        text=text,
        places=places(text),
        hubs=hubs(text),
        items=items(text),
        requests=requests(text),
        fundraisers=fundraisers(text),
    )
