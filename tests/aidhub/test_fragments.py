"""{% fragment %}: a piece of a page kept in the cache under what it depends on."""

from unittest import mock

from django.core.cache import cache
from django.template import Context, Template
from django.utils import translation

PIECE = Template('{% load fragments %}{% fragment "t" seconds what %}{{ shown }}{% endfragment %}')


def draw(shown: str, what: str = "v1", seconds: object = 60) -> str:
    return PIECE.render(Context({"shown": shown, "what": what, "seconds": seconds}))


def test_a_piece_is_kept_until_what_it_depends_on_changes():
    assert draw("first") == "first"
    assert draw("second") == "first"  # kept
    assert draw("third", what="v2") == "third"  # a new version: drawn again


def test_each_language_has_its_own_copy():
    with translation.override("en"):
        assert draw("english") == "english"
    with translation.override("ru"):
        assert draw("russian") == "russian"
    with translation.override("en"):
        assert draw("other") == "english"


def test_without_seconds_a_piece_is_drawn_and_never_kept():
    assert draw("first", seconds="") == "first"
    assert draw("second", seconds="") == "second"
    assert draw("third") == "third"


def test_a_cache_that_is_down_draws_the_piece():
    down = mock.Mock(side_effect=ConnectionError("down"))
    with mock.patch.multiple(cache, get_many=down, set_many=down):
        assert draw("first") == "first"
        assert draw("second") == "second"
