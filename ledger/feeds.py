from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from . import presentation, queries


class LatestEntriesFeed(Feed):
    feed_type = Atom1Feed
    title = _("AidHub public ledger")
    subtitle = _("New entries of the public ledger: donations, expenses, goods and deliveries.")

    def link(self):
        return reverse("ledger:list")

    def items(self):
        return queries.entries_page(queries.Filters(), before=None, size=50)

    def item_title(self, item):
        return f"#{item.index} {presentation.KIND_LABELS[item.kind]}"

    def item_description(self, item):
        return presentation.summary(item.kind, item.payload)

    def item_link(self, item):
        return reverse("ledger:entry", args=[item.index])

    def item_pubdate(self, item):
        return item.time

    def item_guid(self, item):
        return item.leaf_hash_hex
