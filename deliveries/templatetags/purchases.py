"""For the fundraiser's manage page (donations, an app below this one): which of its purchases
still have goods that no delivery carries, so it can offer to deliver them."""

from collections.abc import Iterable

from django import template

from donations.models import Expense

from ..services import purchase_goods_left

register = template.Library()


@register.simple_tag
def purchases_to_deliver(expenses: Iterable[Expense]) -> set[int]:
    """The ids of the expenses whose goods can still go straight to a place: not reversed,
    not put into a hub's stock, and with something left. Two queries for the whole list."""
    direct = [e.pk for e in expenses if e.hub_id is None and not e.is_corrected]
    return set(purchase_goods_left(direct)) if direct else set()
