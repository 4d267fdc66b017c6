"""Each person's journey through AidHub in Russian and in Kyrgyz, the language chosen as a real
person chooses it: the footer's language form, or the browser's own language (Accept-Language).

The translated labels asserted on the way are msgstr values of locale/<lang>/LC_MESSAGES/django.po.
Screenshots of every step: test-artifacts/e2e/<test>[<lang>]/.
"""

import pytest

from deliveries.models import Delivery, ProofOfDelivery
from donations.models import Donation
from hubs.models import Item, Place, SupplyRequest
from ledger.models import ReceiptCode

from .steps import PHONE, choose_language, log_in, lose_the_first_answer
from .test_volunteer_journey import fill_the_report

UI = {
    "ru": {
        "log_in": "Войти",
        "plan": "Запланировать доставку",
        "planned": "Запланировано. Теперь волонтёры пункта сбора могут взять эту доставку.",
        "to_verify": "Проверить",
        "approve": "Одобрить и опубликовать",
        "verified": "Проверено: запись реестра",
        "how_to_donate": "Как пожертвовать",
        "fundraiser": "Алматы — Баткену: помощь эвакуированным",
        "have_code": "У меня есть код квитанции",
        "find_my_donation": "Найти моё пожертвование",
        "thanks": "Это запись пожертвования с кодом квитанции",
        "what_is_checked": "Что проверяется и кем",
        "since": "Что сделано на деньги сбора с тех пор",
        "my_deliveries": "Мои доставки",
        "free_to_take": "Можно взять",
        "claim": "Я возьму",
        "claimed": "Доставка ваша. Отметьте отправку, когда машина выедет.",
        "dispatch": "Машина выезжает",
        "report": "Доставлено: добавить фото",
        "saved": "Отчёт об этой доставке сохранён на этом телефоне",
        "sent": "отправлено, сервер получил.",
        "already": "Это уже записано; второй раз ничего не записано.",
    },
    "ky": {
        "log_in": "Кирүү",
        "plan": "Жеткирүүнү пландоо",
        "planned": "Пландалды. Эми чогултуу пунктунун ыктыярчылары аны ала алышат.",
        "to_verify": "Текшерүү",
        "approve": "Жактырып, жарыялоо",
        "verified": "Текшерилди: №",
        "how_to_donate": "Кантип кайрымдуулук кылуу керек",
        "fundraiser": "Алматы Баткенге: көчүрүлгөндөргө жардам",
        "have_code": "Менде квитанция коду бар",
        "find_my_donation": "Кайрымдуулугумду табуу",
        "thanks": "Бул квитанция коду",
        "what_is_checked": "Эмне текшерилет жана ким текшерет",
        "since": "Ошондон бери каражат чогултуунун акчасы менен эмне жасалды",
        "my_deliveries": "Менин жеткирүүлөрүм",
        "free_to_take": "Алууга болот",
        "claim": "Мен алам",
        "claimed": "Бул жеткирүү сизде. Унаа жолго чыкканда белгилеңиз.",
        "dispatch": "Унаа жолго чыкты",
        "report": "Жеткирилди: сүрөт кошуу",
        "saved": "Бул жеткирүү боюнча отчет ушул телефондо сакталган",
        "sent": "жөнөтүлдү, сервер алды.",
        "already": "Бул мурунтан эле жазылган; экинчи жолу жазылган жок.",
    },
}
LANGUAGES = list(UI)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_coordinator_logs_in_plans_a_delivery_and_verifies_one_in_their_language(
    new_page, shots, lang
):
    t = UI[lang]
    nookat = Place.objects.get(slug="nookat")
    asked = SupplyRequest.objects.get(place=nookat)
    water = Item.objects.get(slug="water")
    kara_bak = Delivery.objects.get(place__slug="kara-bak")
    assert kara_bak.status == "delivered"

    page = new_page()
    page.goto("/accounts/login/")
    choose_language(page, lang)
    assert t["log_in"] in page.inner_text("main")
    shots(page, "login")
    log_in(page, "coordinator")  # the language chosen before logging in stays
    assert page.get_attribute("html", "lang") == lang

    page.click(f"header a:text-is('{t['plan']}')")
    page.wait_for_url("**/deliveries/new/")
    assert t["plan"] in page.inner_text("main h1")
    page.select_option("#id_place", str(nookat.pk))
    page.check(f"input[name=requests][value='{asked.pk}']")
    page.select_option("#id_lines-0-item", str(water.pk))
    page.fill("#id_lines-0-quantity", "100")
    shots(page, "plan-filled")
    page.click("main [type=submit]")
    page.get_by_text(t["planned"]).wait_for()
    planned = Delivery.objects.get(place=nookat)
    assert page.url.endswith(planned.get_absolute_url())
    assert planned.status == "planned"
    assert [(line.item.slug, line.quantity) for line in planned.lines.all()] == [("water", 100)]
    shots(page, "planned")

    page.click(f"header a:text-is('{t['to_verify']}')")
    page.wait_for_url("**/deliveries/awaiting/")
    page.click(f"a[href='/deliveries/{kara_bak.slug}/verify/']")
    page.wait_for_url(f"**/deliveries/{kara_bak.slug}/verify/")
    shots(page, "proof")
    page.click(f"button[name=approve]:has-text('{t['approve']}')")
    page.get_by_text(t["verified"]).wait_for()
    kara_bak.refresh_from_db()
    assert kara_bak.status == "verified"
    assert str(kara_bak.ledger_index) in page.get_by_text(t["verified"]).inner_text()
    shots(page, "verified")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_donor_finds_how_to_pay_their_receipt_and_what_the_money_did_in_their_language(
    new_page, shots, lang
):
    t = UI[lang]
    donation = Donation.objects.exclude(receipt_code="").order_by("pk").first()
    receipt = ReceiptCode.objects.select_related("entry").get(code=donation.receipt_code)
    isfana = Delivery.objects.get(place__slug="isfana")

    page = new_page(viewport=PHONE, locale={"ru": "ru-RU", "ky": "ky-KG"}[lang])
    page.goto("/fundraisers/")
    assert page.get_attribute("html", "lang") == lang
    page.click(f"main a:has-text('{t['fundraiser']}')")
    page.wait_for_url(f"**{donation.fundraiser.get_absolute_url()}")
    assert t["fundraiser"] in page.inner_text("main h1")

    ways = page.locator("section[aria-labelledby=how-to-donate]")
    assert t["how_to_donate"] in ways.locator("h2").inner_text()
    methods = ways.locator("li.payment-method")
    assert methods.count() == 3
    assert "+7 700 000 00 01" in methods.filter(has_text="Kaspi").inner_text()
    assert "+996 700 000 001" in methods.filter(has_text="MBank").inner_text()
    shots(page, "fundraiser-ways-to-pay")

    # The organiser recorded the donation and gave the donor its code; the donor types it
    # from memory, without the hyphen.
    page.click(f"main a:text-is('{t['have_code']}')")
    page.wait_for_url("**/ledger/receipt/")
    assert t["find_my_donation"] in page.inner_text("main h1")
    page.fill("#code", donation.receipt_code.replace("-", ""))
    shots(page, "receipt-code-typed")
    page.click("main form button")
    page.wait_for_url(f"**/ledger/receipt/{donation.receipt_code}/")
    main = page.locator("main")
    assert t["thanks"] in main.locator(".alert-success").inner_text()
    assert donation.receipt_code in main.locator(".alert-success").inner_text()
    assert f"#{receipt.entry.index}" in main.inner_text()
    checked = main.locator("section[aria-labelledby=verified-heading]")
    assert t["what_is_checked"] in checked.locator("h2").inner_text()
    since = main.locator("section[aria-labelledby=since-heading]")
    assert t["since"] in since.locator("h2").inner_text()
    shots(page, "receipt")

    # What it paid for: the delivery to Isfana is among what the money has done since.
    delivered = since.locator(f"a[href='/ledger/{isfana.ledger_index}/']")
    assert delivered.count() == 1
    delivered.click()
    page.wait_for_url(f"**/ledger/{isfana.ledger_index}/")
    assert page.locator("main img.thumb-lg").count() == 2
    assert page.get_attribute("html", "lang") == lang
    shots(page, "what-it-paid-for")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_volunteer_claims_dispatches_reports_offline_and_the_lost_answer_is_sent_once(
    new_page, shots, tmp_path, lang
):
    t = UI[lang]
    ak_sai = Delivery.objects.get(place__slug="ak-sai")
    url = ak_sai.get_absolute_url()
    report = f"{url}report/"
    # No service worker: the open page itself sends the report when the connection returns,
    # and again when the answer is lost (Background Sync would, minutes later).
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True, service_workers="block")
    log_in(page, "volunteer")
    page.goto("/deliveries/")
    choose_language(page, lang)
    assert t["my_deliveries"] in page.inner_text("main h1")
    assert t["free_to_take"] in page.inner_text("main")
    shots(page, "my-deliveries")

    page.click(f"main a[href='{url}']")
    page.wait_for_url(f"**{url}")
    page.click(f"main button:text-is('{t['claim']}')")
    page.get_by_text(t["claimed"]).wait_for()
    shots(page, "claimed")
    page.click(f"main button:text-is('{t['dispatch']}')")
    page.locator(f"main a:text-is('{t['report']}')").wait_for()
    ak_sai.refresh_from_db()
    assert ak_sai.status == "dispatched"
    shots(page, "dispatched")

    page.click(f"main a:text-is('{t['report']}')")
    page.wait_for_url(f"**{report}")
    page.context.set_offline(True)
    fill_the_report(page, tmp_path, "18")
    page.locator("#offline-queue li[data-state=waiting]").wait_for()
    assert t["saved"] in page.inner_text("#report-status")
    assert not ProofOfDelivery.objects.filter(delivery=ak_sai).exists()
    shots(page, "saved-offline")

    def recorded():
        assert ProofOfDelivery.objects.filter(delivery=ak_sai).count() == 1

    keys = lose_the_first_answer(page, report, recorded)
    page.context.set_offline(False)
    # The page sends it, never hears back, sends it again with the same key and is told it
    # is already recorded; it shows the delivery without the volunteer reloading anything.
    page.wait_for_url(f"**{url}", timeout=30_000)
    page.locator(".alert-info", has_text="18").wait_for()
    notice = page.locator("#offline-sent li[data-state=sent]")
    assert t["sent"] in notice.inner_text()
    assert t["already"] in notice.inner_text()
    assert page.evaluate("() => window.AidHubQueue.all().then(r => r.length)") == 0
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0]
    proof = ProofOfDelivery.objects.get(delivery=ak_sai)
    assert (proof.people, proof.note) == (18, "At the school gate.")
    assert page.get_attribute("html", "lang") == lang
    shots(page, "sent-once")
