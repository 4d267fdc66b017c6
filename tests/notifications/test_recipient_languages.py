"""The same event reaches each subscriber in their own language, names included (a place's, a
hub's, a fundraiser's title), whatever language the person who caused it reads; a webhook's
data keeps the canonical (English) names."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.utils import timezone, translation

from donations import services as donations
from hubs import services as hubs
from notifications import messages
from notifications.models import Subscription, UserLanguage
from tests.factories import HubFactory, ItemFactory, MembershipFactory, PlaceFactory, UserFactory

from .receiver import Receiver

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def written_in_english(django_capture_on_commit_callbacks):
    """The event is written by someone reading English and sent on commit in that language."""

    def run(fn, **kwargs):
        with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return run


def follow(scope: str, ref: str, **readers: str) -> None:
    """Confirmed e-mail subscribers: address -> language."""
    for address, language in readers.items():
        Subscription.objects.create(
            channel="email", address=f"{address}@example.org", scope=scope, ref=ref,
            language=language, confirmed_at=timezone.now(),
        )  # fmt: skip


def sent() -> dict[str, mail.EmailMessage]:
    return {message.to[0].split("@")[0]: message for message in mail.outbox}


@pytest.fixture
def translated_fundraiser(fundraiser):
    fundraiser.title_ru, fundraiser.title_ky = "Алматы для Баткена", "Алматы Баткен үчүн"
    fundraiser.save()
    return fundraiser


def test_a_milestone_reaches_ru_and_ky_readers_each_with_the_title_in_their_language(
    translated_fundraiser, written_in_english
):
    follow("fundraiser", translated_fundraiser.slug, aigerim="ky", olga="ru")
    written_in_english(
        donations.donation_record, fundraiser=translated_fundraiser, amount="2700000.00",
        currency="KZT", received_at=timezone.now(), channel="card", by=None,
    )  # fmt: skip
    ky, ru = sent()["aigerim"], sent()["olga"]
    assert ky.subject == "«Алматы Баткен үчүн»: 25% чогулду"
    assert ru.subject == "«Алматы для Баткена»: собрано 25%"
    assert "Жазылууну токтотуу:" in ky.body and "Unsubscribe" not in ky.body
    assert "Отписаться:" in ru.body and "Unsubscribe" not in ru.body
    # Numbers in the reader's format, not the writer's "2,700,000".
    assert "2,700,000" not in ru.body and "2\xa0700\xa0000" in ru.body


def test_a_request_names_the_place_and_hub_in_each_readers_language(written_in_english):
    hub = HubFactory(slug="palace", name="Sports Palace", name_ru="Дворец спорта",
                     name_ky="Спорт сарайы")  # fmt: skip
    place = PlaceFactory(name="Isfana", name_ru="Исфана", name_ky="Исфана шаары")
    follow("hub", hub.slug, aigerim="ky", olga="ru", tom="en")
    written_in_english(
        hubs.request_create, hub=hub, place=place, lines=[(ItemFactory(), Decimal(5))], by=None
    )
    ky, ru, en = sent()["aigerim"], sent()["olga"], sent()["tom"]
    assert ky.subject == "Спорт сарайы: муктаждыктар өзгөрдү"
    assert ru.subject == "Дворец спорта: нужды изменились"
    assert en.subject == "Sports Palace: needs changed"


def test_telegram_gets_the_names_and_footer_in_the_readers_language(
    translated_fundraiser, written_in_english, settings
):
    settings.TELEGRAM_BOT_TOKEN = "123:abc"
    Subscription.objects.create(
        channel="telegram", address="777", scope="fundraiser", ref=translated_fundraiser.slug,
        language="ky", confirmed_at=timezone.now(),
    )  # fmt: skip
    with Receiver() as bot_api:
        settings.TELEGRAM_API_URL = bot_api.url
        written_in_english(
            donations.donation_record, fundraiser=translated_fundraiser, amount="2700000.00",
            currency="KZT", received_at=timezone.now(), channel="card", by=None,
        )  # fmt: skip
    text = bot_api.json(0)["text"]
    assert "Алматы Баткен үчүн" in text and "Мындан ары жөнөтпөө:" in text
    assert "Almaty for Batken" not in text


def test_a_webhooks_data_keeps_the_canonical_english_names(django_capture_on_commit_callbacks):
    hub = HubFactory(slug="palace", name="Sports Palace", name_ru="Дворец спорта")
    place = PlaceFactory(name="Isfana", name_ru="Исфана")
    with Receiver() as receiver:
        Subscription.objects.create(
            channel="webhook", address=f"{receiver.url}/hook", scope="hub", ref=hub.slug,
            language="ru", secret="s", confirmed_at=timezone.now(),
        )  # fmt: skip
        # The writer reads Russian this time.
        with translation.override("ru"), django_capture_on_commit_callbacks(execute=True):
            hubs.request_create(hub=hub, place=place, lines=[(ItemFactory(), Decimal(5))], by=None)
    body = json.loads(receiver.requests[0]["body"])
    assert body["data"]["hub"] == "Sports Palace" and body["data"]["place"] == "Isfana"
    assert body["data"]["items"] == "Flour 5 kg"
    assert body["subject"] == "Дворец спорта: нужды изменились"  # its reader's words


def test_a_confirmation_sent_again_from_an_english_page_keeps_the_subscribers_language(
    client, translated_fundraiser, django_capture_on_commit_callbacks
):
    form = {"scope": "fundraiser", "ref": translated_fundraiser.slug, "channel": "email",
            "address": "olga@example.org"}  # fmt: skip
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/notifications/subscribe/", form, HTTP_ACCEPT_LANGUAGE="ru")
    # The first mail was lost; the form is sent again, later, from a page read in English.
    later = time_machine.travel(now + timedelta(minutes=11), tick=False)
    with later, django_capture_on_commit_callbacks(execute=True):
        client.post("/notifications/subscribe/", form, HTTP_ACCEPT_LANGUAGE="en")
    assert Subscription.objects.get().language == "ru" and len(mail.outbox) == 2
    again = mail.outbox[1]
    assert "Алматы для Баткена" in again.body and "Almaty for Batken" not in again.body


def test_in_languages_words_a_name_in_every_ui_language(settings):
    hub = HubFactory(name="Sports Palace", name_ky="Спорт сарайы")
    names = messages.in_languages(lambda: hub.name)
    assert set(names) == {code for code, _name in settings.LANGUAGES}
    assert names["ky"] == "Спорт сарайы" and names["ru"] == "Sports Palace"  # falls back


def test_an_invitation_is_worded_in_the_invitees_language_not_the_coordinators(
    django_capture_on_commit_callbacks,
):
    hub = HubFactory(name="Sports Palace", name_ky="Спорт сарайы")
    coordinator = UserFactory(username="tom")
    MembershipFactory(user=coordinator, hub=hub, role="coordinator")
    invitee = UserFactory(username="aigerim", email="aigerim@example.kg")
    UserLanguage.objects.create(user=invitee, language="ky")
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        hubs.membership_invite(hub=hub, person="aigerim", by=coordinator)
    (invitation,) = mail.outbox
    assert invitation.subject == "AidHub'та «Спорт сарайы» пунктунда ыктыярчы болосузбу?"
