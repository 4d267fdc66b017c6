"""`{% fragment "name" seconds what… %}…{% endfragment %}`: a piece of a page from the cache.

The piece is rendered once and kept for `seconds` under its name, the values after it (each
`what` is anything the piece shows that can change: a version that writers forget, the URL),
the language and the time zone (see aidhub.pagecache.fragment_key). Whatever the piece alone
reads should be lazy in the context (SimpleLazyObject), so a piece from the cache costs no
query. Nothing that differs between visitors (a CSRF token, a coordinator's button) belongs
inside."""

from django import template
from django.template.base import FilterExpression, NodeList

from aidhub import pagecache

register = template.Library()


class FragmentNode(template.Node):
    def __init__(
        self, nodelist: NodeList, name: FilterExpression, seconds: FilterExpression,
        vary: list[FilterExpression],
    ) -> None:  # fmt: skip
        self.nodelist, self.name, self.seconds, self.vary = nodelist, name, seconds, vary

    def render(self, context: template.Context) -> str:
        key = pagecache.fragment_key(
            self.name.resolve(context), *(what.resolve(context) for what in self.vary)
        )
        seconds = self.seconds.resolve(context)
        if not isinstance(seconds, int) or seconds <= 0:  # not given: drawn, never kept
            return self.nodelist.render(context)
        return pagecache.fragment(key, lambda: self.nodelist.render(context), seconds=seconds)


@register.tag("fragment")
def do_fragment(parser: template.base.Parser, token: template.base.Token) -> FragmentNode:
    bits = token.split_contents()
    if len(bits) < 3:
        raise template.TemplateSyntaxError("{% fragment %} takes a name and seconds")
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    name, seconds, *vary = (parser.compile_filter(bit) for bit in bits[1:])
    return FragmentNode(nodelist, name, seconds, vary)
