"""The language switcher turns a volunteer's pages into Kyrgyz and Russian."""

from deliveries.models import Delivery

from .steps import PHONE, choose_language, log_in


def test_the_language_switcher_changes_the_volunteers_pages_to_kyrgyz_and_russian(new_page, shots):
    delivery = Delivery.objects.get(place__slug="samarkandyk")
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(page, "volunteer")
    page.goto(delivery.get_absolute_url())
    assert page.get_attribute("html", "lang") == "en"
    assert "Flour" in page.inner_text("main")
    shots(page, "english")

    for code, needs, log_out, flour in [
        ("ky", "Муктаждыктар", "Чыгуу", "Ун"),
        ("ru", "Нужды", "Выйти", "Мука"),
    ]:
        choose_language(page, code)
        assert page.url.endswith(delivery.get_absolute_url())  # the same page, translated
        assert needs in page.inner_text("header")
        assert log_out in page.inner_text("header")
        assert flour in page.inner_text("main")
        shots(page, code)
