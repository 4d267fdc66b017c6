"""The public Follow form sits on pages served whole from the cache, the same bytes for every
visitor; its one-time token is made in each visitor's browser (static/js/one-time-token.js), so
a double press records one subscription and shows a webhook's secret on the answer."""

import re

from aidhub.models import IdempotentSubmission
from notifications.models import Subscription

FUNDRAISER = "/fundraisers/almaty-for-batken-2022/"
FIELD = "form[action='/notifications/subscribe/'] input[name=idempotency_key]"
FILLED = f'() => /^b-[0-9a-f]{{32}}$/.test(document.querySelector("{FIELD}").value)'


def browser_token(page) -> str:
    page.wait_for_function(FILLED)
    return page.locator(FIELD).first.input_value()


def test_the_fundraisers_follow_form_gets_a_token_of_each_visitors_own(new_page, shots):
    first, second = new_page(), new_page()
    served = [first.goto(FUNDRAISER), second.goto(FUNDRAISER)]
    # The page as sent carries no token (it may come from the cache); the browser adds one.
    assert all('value="" data-one-time-token' in response.text() for response in served)
    token = browser_token(first)
    assert re.fullmatch(r"b-[0-9a-f]{32}", token) and token != browser_token(second)
    shots(first, "fundraiser-form")

    form = first.locator("form[action='/notifications/subscribe/']")
    form.locator("input[name=address]").fill("donor@example.org")
    form.locator("button").click()
    first.get_by_text("We sent you an e-mail").wait_for()
    shots(first, "subscribed")
    assert list(IdempotentSubmission.objects.values_list("key", "user")) == [(token, None)]
    assert Subscription.objects.filter(address="donor@example.org").count() == 1


def test_a_webhook_followed_with_a_double_press_is_one_subscription_with_its_secret_shown(
    new_page, shots
):
    page = new_page()
    page.goto("/ledger/verify/")
    browser_token(page)
    form = page.locator("form[action='/notifications/subscribe/']")
    form.locator("input[value=webhook]").check()
    form.locator("input[name=address]").fill("http://127.0.0.1:9/hook")
    form.locator("button").dblclick()
    page.get_by_text("Check the X-AidHub-Signature header").wait_for()
    shots(page, "webhook-secret")
    subscription = Subscription.objects.get(address="http://127.0.0.1:9/hook")
    assert subscription.secret in page.inner_text("main")
