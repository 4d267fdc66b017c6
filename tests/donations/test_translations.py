"""A fundraiser's title, story and how to donate in the reader's language
(django-modeltranslation), English when a translation is empty, and English wherever the title
is canonical (the ledger's payloads and refs)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from donations import services
from donations.models import Fundraiser
from ledger import queries as ledger_queries
from ledger import services as ledger_services
from ledger.models import LedgerEntry, LedgerRef
from tests.factories import UserFactory, organised_by

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

RU_TITLE = "Алматы — Баткену: помощь эвакуированным"
KY_TITLE = "Алматы Баткенге: көчүрүлгөндөргө жардам"


@pytest.fixture
def translated(fundraiser):
    fundraiser.title_ru = RU_TITLE
    fundraiser.title_ky = KY_TITLE
    fundraiser.story_en = "We drive food to Isfana."
    fundraiser.story_ru = "Мы возим продукты в Исфану."
    fundraiser.how_to_donate_ru = "Карта Kaspi, спросите в нашем канале"
    fundraiser.save()
    return fundraiser


def reader(language: str) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=language)


def donate(fundraiser, amount="1000.00"):
    return services.donation_record(
        fundraiser=fundraiser, amount=amount, currency="USD", received_at=timezone.now(),
        channel="bank_transfer", by=None, donor_contact="", bank_reference="", public_name="",
    )  # fmt: skip


@pytest.mark.parametrize(("language", "title"), [("ru", RU_TITLE), ("ky", KY_TITLE)])
def test_fundraiser_page_and_list_show_the_title_in_the_readers_language(
    translated, language, title
):
    client = reader(language)
    page = client.get("/fundraisers/almaty-for-batken/").text
    assert title in page
    assert "Almaty for Batken" not in page
    assert title in client.get("/fundraisers/").text


def test_an_empty_translation_falls_back_to_english(translated):
    kk = reader("kk").get("/fundraisers/almaty-for-batken/").text  # nothing in Kazakh
    assert "Almaty for Batken" in kk and "We drive food to Isfana." in kk
    assert "Kaspi card, ask in our channel" in kk
    # A Kyrgyz title but no Kyrgyz story: each field falls back on its own.
    ky = reader("ky").get("/fundraisers/almaty-for-batken/").text
    assert KY_TITLE in ky and "We drive food to Isfana." in ky
    ru = reader("ru").get("/fundraisers/almaty-for-batken/").text
    assert "Мы возим продукты в Исфану." in ru and "Карта Kaspi" in ru
    with translation.override("tg"):
        assert str(translated) == "Almaty for Batken" == translated.title


def test_a_title_written_while_russian_is_active_keeps_english_canonical(organiser):
    with translation.override("ru"):
        fundraiser = Fundraiser.objects.create(
            slug="osh-winter", title="Osh winter", **organised_by(organiser), goal_amount=100,
            currency="KGS", starts_on=timezone.localdate(),
        )  # fmt: skip
    fundraiser.refresh_from_db()
    assert fundraiser.title_en == "Osh winter" == fundraiser.canonical_title


def test_ledger_signs_the_english_title_when_the_organisers_ui_is_russian(translated, rates):
    with translation.override("ru"):
        donation = donate(translated)
        services.payment_method_add(
            fundraiser=translated, by=translated.organiser, kind="bank_transfer",
            label="MBank", details="1030120000123456", currency="KGS",
        )  # fmt: skip
    for entry in LedgerEntry.objects.all():
        payload = ledger_queries.entry_view(entry.index).payload
        assert payload["fundraiser"] == {"id": "almaty-for-batken", "title": "Almaty for Batken"}
    labels = set(LedgerRef.objects.filter(scope="fundraiser").values_list("label", flat=True))
    assert labels == {"Almaty for Batken"}
    assert donation.ledger_index is not None


def test_ledger_entry_and_receipt_pages_show_the_title_in_the_readers_language(translated, rates):
    donation = donate(translated)
    entry = LedgerEntry.objects.get(index=donation.ledger_index)
    code = ledger_services.receipt_code_issue(entry=entry)
    client = reader("ru")
    for path in (f"/ledger/{entry.index}/", f"/ledger/receipt/{code}/"):
        page = client.get(path).text
        assert f"«{RU_TITLE}»" in page, path  # the summary
        assert f">{RU_TITLE}</a>" in page, path  # the fundraiser row
        assert ">Almaty for Batken</a>" not in page  # (the leaf's bytes keep it, as signed)
    kk = reader("kk").get(f"/ledger/{entry.index}/").text  # no Kazakh title
    assert "Almaty for Batken" in kk and RU_TITLE not in kk


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_exports_keep_the_english_title(translated, rates, fmt):
    with translation.override("ru"):
        donate(translated)
    response = reader("ru").get(f"/ledger/export.{fmt}?fundraiser=almaty-for-batken")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert "Almaty for Batken" in body.decode() and RU_TITLE not in body.decode()


def test_ledger_list_asks_for_titles_once_however_many_entries_and_fundraisers(
    translated, rates, organiser
):
    def ledger_list() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            response = reader("ru").get("/ledger/")
        assert response.status_code == 200
        return len(captured), response.text

    donate(translated)
    before, text = ledger_list()
    assert f"«{RU_TITLE}»" in text
    for n in range(6):
        other = Fundraiser.objects.create(
            slug=f"other-{n}", title=f"Other {n}", title_ru=f"Другой {n}",
            **organised_by(organiser),
            goal_amount=100, currency="KGS", starts_on=timezone.localdate(),
        )  # fmt: skip
        donate(other, amount="10.00")
        donate(translated, amount="5.00")
    after, text = ledger_list()
    assert "«Другой 5»" in text
    assert after == before


def test_organisers_edit_translations_in_the_admin(client, translated):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    url = f"/admin/donations/fundraiser/{translated.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    for field in ("title", "story", "how_to_donate"):
        for language in ("en", "ru", "ky", "kk", "uz", "tg"):
            assert f'name="{field}_{language}"' in page.text
    assert '<script src="http' not in page.text  # plain fields, no assets from elsewhere
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name in form.fields and value is not None
    }
    data |= {"title_en": "Almaty for Batken", "title_kk": "Алматы Баткенге", "story_ky": "Ун"}
    data["places"], data["hubs"] = [], []
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    translated.refresh_from_db()
    assert (translated.title_en, translated.title_kk, translated.title_ru) == (
        "Almaty for Batken", "Алматы Баткенге", RU_TITLE,
    )  # fmt: skip
    assert translated.story_ky == "Ун"
    data["title_en"] = ""
    refused = client.post(url, data)
    assert refused.status_code == 200 and "title_en" in refused.context["adminform"].form.errors
