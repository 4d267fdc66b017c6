"""Ways to pay that a scammer-organiser could use to send donors to an account the ledger does
not show: unledgered free text, hidden names, invisible characters and look-alike digits."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from donations import services
from donations.models import Fundraiser, PaymentMethod, PaymentMethodProposal
from ledger.models import LedgerEntry
from ledger.schemas import PayloadError, validate_payload
from tests.factories import PASSWORD, payment_method_approved, second_approves

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

KASPI = {"kind": "e_wallet", "label": "Kaspi", "details": "+7 701 555 01 22", "currency": "KZT",
         "recipient_name": "Dana O."}  # fmt: skip
LEDGER_WARNING = "each change of them is in the public ledger"


def add(fundraiser, **fields):
    """Proposed by the organiser, approved by the treasurer."""
    return payment_method_approved(
        services.payment_method_add(
            fundraiser=fundraiser, by=fundraiser.organiser, **(KASPI | fields)
        )
    )


def entries() -> int:
    return LedgerEntry.objects.filter(kind="payment_details").count()


def last_methods() -> list:
    entry = LedgerEntry.objects.filter(kind="payment_details").latest("index")
    return json.loads(bytes(entry.leaf))["payload"]["methods"]


def page(client, fundraiser) -> str:
    return client.get(reverse("donations:fundraiser", args=[fundraiser.slug])).text


# 1. The free text is not ledgered, so it never stands under the ledger's warning.


def test_the_free_text_is_not_shown_beside_ways_to_pay(client, fundraiser):
    add(fundraiser)
    fundraiser.how_to_donate = "Pay to my card 4400 0000 0000 0009 instead"
    fundraiser.save()
    text = page(client, fundraiser)
    assert "+7 701 555 01 22" in text and LEDGER_WARNING in text
    assert "4400 0000 0000 0009" not in text


def test_without_ways_to_pay_the_free_text_is_the_organisers_unchecked_note(client, fundraiser):
    text = page(client, fundraiser)
    assert "Kaspi card, ask in our channel" in text
    assert "own note on donating" in text
    assert "AidHub does not check it, and its changes are not in the public ledger." in text
    assert LEDGER_WARNING not in text


def test_the_help_text_no_longer_asks_for_a_card_number():
    help_text = str(Fundraiser._meta.get_field("how_to_donate").help_text)
    assert "card number" not in help_text.split(".")[0] and "ways to pay" in help_text


# 2. The recipient name: checked, and a change of it alone is not a ledger change.


@pytest.mark.parametrize("name", ["Dana O. 4400", "Dana\u202eO.", "Dana\u200bO.", "Dana \u3164"])
def test_a_recipient_name_with_digits_or_invisible_characters_is_refused(fundraiser, name):
    with pytest.raises(ValidationError) as caught:
        add(fundraiser, recipient_name=name)
    assert "without digits or invisible characters" in " ".join(
        caught.value.message_dict["recipient_name"]
    )
    assert not PaymentMethod.objects.exists()


def test_a_change_of_the_recipient_name_alone_appends_no_entry(client, fundraiser):
    method = add(fundraiser)
    approved = second_approves(
        services.payment_method_change(
            method=method, by=fundraiser.organiser, recipient_name="Dana Omarova"
        )
    )
    assert approved.ledger_index is None and entries() == 1
    assert PaymentMethod.objects.get().recipient_name == "Dana Omarova"
    client.login(username=fundraiser.organiser.username, password=PASSWORD)
    response = client.post(
        reverse("donations:payment_method_edit", args=[fundraiser.slug, method.pk]),
        {**KASPI, "recipient_name": "Dana O.", "order": "1", "active": "on"},
        follow=True,
    )
    # The page shows the name to donors: a second person approves its change too.
    assert "It waits for a second person" in response.text
    assert PaymentMethod.objects.get().recipient_name == "Dana Omarova"
    second_approves(PaymentMethodProposal.objects.get(status="pending"))
    assert PaymentMethod.objects.get().recipient_name == "Dana O." and entries() == 1


# 3. The ledger refuses bidi controls and other invisible characters in any text.


@pytest.mark.parametrize("hidden", ["\u202e", "\u200b", "\u2028", "\ue000", "\u3164"])
def test_the_ledger_refuses_invisible_characters_in_text(fundraiser, hidden):
    with pytest.raises(PayloadError, match="invisible or control characters"):
        validate_payload("payment_details", {
            "fundraiser": fundraiser.ledger_ref(),
            "methods": [{"kind": "e_wallet", "label": f"Kaspi{hidden}", "details": "12345",
                         "currency": "KZT"}],
        })  # fmt: skip
    with pytest.raises(PayloadError, match="invisible or control characters"):
        validate_payload("correction", {"reverses": 0, "reason": f"recorded{hidden} twice"})


def test_control_characters_stay_allowed_in_ledger_text_but_not_in_a_label_a_donor_pays_to(
    fundraiser,
):
    # A reason may have a line break (exports and e-mail headers neutralise those); a way to
    # pay's details may not hold any control character.
    validate_payload("correction", {"reverses": 0, "reason": "recorded twice\nby two tabs"})
    with pytest.raises(ValidationError):
        add(fundraiser, details="+7 701 555\x07 01 22")


def test_the_details_are_isolated_left_to_right_on_both_pages(client, fundraiser):
    add(fundraiser)
    bdi = '<bdi dir="ltr">+7 701 555 01 22</bdi>'
    assert bdi in page(client, fundraiser)
    entry = LedgerEntry.objects.get(kind="payment_details")
    assert bdi in client.get(reverse("ledger:entry", args=[entry.index])).text


# 4. Look-alike digits and foreign letters in the details.


@pytest.mark.parametrize("typed", ["+7 701 555 01 ２２", "+7 701 555 01 𝟐𝟐"])
def test_look_alike_digits_are_normalised_and_then_seen_as_the_same(fundraiser, typed):
    add(fundraiser)
    with pytest.raises(ValidationError, match="already listed"):
        add(fundraiser, details=typed)
    other = add(fundraiser, details=typed.replace(" 01 ", " 02 "))
    assert other.details == "+7 701 555 02 22" and last_methods()[1]["details"] == other.details


@pytest.mark.parametrize("typed", ["+7 701 555 01 ٢٢", "+7 7О1 555 01 22", "KZ\u3164 12"])
def test_other_alphabets_and_digits_are_refused_with_a_clear_message(fundraiser, typed):
    with pytest.raises(ValidationError) as caught:
        add(fundraiser, details=typed)
    assert "letters" in " ".join(caught.value.message_dict["details"])
    assert not PaymentMethod.objects.exists() and not LedgerEntry.objects.exists()


def test_the_latin_only_message_names_the_look_alikes(fundraiser):
    with pytest.raises(ValidationError, match="look-alike digits are refused"):
        add(fundraiser, details="+7 701 555 01 ٢٢")


# 6. A closed fundraiser shows no way to pay.


def test_a_closed_fundraiser_shows_no_way_to_pay(client, fundraiser):
    add(fundraiser)
    fundraiser.status = Fundraiser.Status.CLOSED
    fundraiser.save()
    text = page(client, fundraiser)
    assert "This fundraiser is closed; do not send money to it." in text
    assert 'id="pay-details-' not in text and LEDGER_WARNING not in text  # no ways to pay
    assert "Kaspi card, ask in our channel" not in text
