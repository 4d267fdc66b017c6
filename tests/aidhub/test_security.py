import datetime
import re

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD, HubFactory, MembershipFactory, UserFactory, organised_by

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_counters():
    cache.clear()
    yield
    cache.clear()


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.fixture
def coordinator():
    return MembershipFactory(
        hub=HubFactory(slug="palace"), user=UserFactory(username="aigerim", is_staff=True)
    ).user


@pytest.mark.limits
def test_five_wrong_passwords_lock_the_account_for_a_while(client, coordinator):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "aigerim", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "aigerim", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many wrong passwords" in response.text
    assert "_auth_user_id" not in client.session


@pytest.mark.limits
def test_too_many_login_posts_from_one_address_are_slowed_down(client, settings):
    settings.AXES_ENABLED = False  # only the rate limit is under test here
    statuses = [
        client.post("/accounts/login/", {"username": f"u{n}", "password": "x"}).status_code
        for n in range(12)
    ]
    assert statuses[:10] == [200] * 10
    assert statuses[10:] == [429, 429]


def setup_link(user) -> str:
    from aidhub.security import two_factor_setup_link

    return two_factor_setup_link(user).removeprefix(django_settings.SITE_URL)


def test_coordinators_must_set_up_and_use_a_second_step(client, coordinator, settings):
    settings.AIDHUB_REQUIRE_2FA = True
    client.force_login(coordinator)
    response = client.get("/hubs/palace/manage/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/?next=/hubs/palace/manage/")
    opened = client.get(setup_link(coordinator))
    assert opened["Location"] == "/accounts/two-factor/"  # the token leaves the address bar
    setup = client.get(response["Location"])
    assert "<svg" in setup.text  # the QR code for the authenticator app
    device = TOTPDevice.objects.get(user=coordinator)
    assert not device.confirmed
    wrong = client.post("/accounts/two-factor/", {"token": "000000", "next": "/"})
    assert wrong.status_code == 400
    device.refresh_from_db()
    device.throttle_reset()  # after a wrong code django-otp makes the next try wait a second
    right = client.post(
        "/accounts/two-factor/", {"token": code(device), "next": "/hubs/palace/manage/"}
    )
    assert right["Location"] == "/hubs/palace/manage/"
    assert client.get("/hubs/palace/manage/").status_code == 200


def test_the_password_alone_never_shows_an_authenticator_secret(client, coordinator, settings):
    settings.AIDHUB_REQUIRE_2FA = True
    client.force_login(coordinator)
    page = client.get("/accounts/two-factor/")
    assert page.status_code == 200
    assert "<svg" not in page.text and "secret" not in page.text
    assert "E-mail me a setup link" in page.text
    assert not TOTPDevice.objects.exists()
    guess = client.post("/accounts/two-factor/", {"token": "123456", "next": "/"})
    assert "<svg" not in guess.text and not TOTPDevice.objects.exists()


def test_the_setup_link_is_e_mailed_to_the_accounts_own_address(client, coordinator, settings):
    from django.core import mail

    settings.AIDHUB_REQUIRE_2FA = True
    coordinator.email = "aigerim@example.org"
    coordinator.save()
    client.force_login(coordinator)
    sent = client.post("/accounts/two-factor/", {"send_link": "1", "next": "/"})
    assert "on its way" in sent.text and "<svg" not in sent.text
    (message,) = mail.outbox
    assert message.to == ["aigerim@example.org"]
    link = next(w for w in message.body.split() if "/accounts/two-factor/setup/" in w)
    client.get(link.removeprefix(settings.SITE_URL))
    assert "<svg" in client.get("/accounts/two-factor/").text


def test_without_an_e_mail_address_the_page_says_to_ask_an_administrator(client, coordinator):
    from django.core import mail

    coordinator.email = ""
    coordinator.save()
    client.force_login(coordinator)
    sent = client.post("/accounts/two-factor/", {"send_link": "1"})
    assert "Ask a site administrator" in sent.text and not mail.outbox


def test_a_setup_link_works_once_and_each_opening_makes_a_new_secret(client, coordinator):
    client.force_login(coordinator)
    first, second = setup_link(coordinator), setup_link(coordinator)
    client.get(first)
    secret = TOTPDevice.objects.get(user=coordinator).key
    again = client.get(first)
    assert again.status_code == 400 and "has been used" in again.text
    assert TOTPDevice.objects.get(user=coordinator).key == secret
    # A link made before the first was opened names the devices as they were: it is spent too.
    assert client.get(second).status_code == 400
    client.get(setup_link(coordinator))
    assert TOTPDevice.objects.get(user=coordinator).key != secret


def test_a_setup_link_is_refused_once_a_device_is_confirmed(client, coordinator):
    client.force_login(coordinator)
    link = setup_link(coordinator)
    TOTPDevice.objects.create(user=coordinator, name="phone", confirmed=True)
    assert client.get(link)["Location"] == "/accounts/two-factor/"
    assert TOTPDevice.objects.filter(user=coordinator).count() == 1  # no second secret


def test_an_expired_or_someone_elses_setup_link_is_refused(client, coordinator, settings):
    import time_machine
    from django.utils import timezone

    settings.TWO_FACTOR_SETUP_HOURS = 1  # within the coordinator's session
    client.force_login(coordinator)
    link = setup_link(coordinator)
    later = timezone.now() + datetime.timedelta(hours=1, minutes=1)
    with time_machine.travel(later):
        assert client.get(link).status_code == 400
    other = UserFactory(username="dana")
    assert client.get(setup_link(other)).status_code == 400
    assert client.get("/accounts/two-factor/setup/zzzzzzzzzzzzzz-abc/").status_code == 400
    assert not TOTPDevice.objects.exists()


def test_a_superuser_issues_a_setup_link_in_the_admin(client, coordinator, superuser):
    from aidhub.models import AuditEvent

    TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
    client.force_login(superuser)
    shown = client.post(
        "/admin/auth/user/",
        {"action": "issue_two_factor_setup_link", "_selected_action": [coordinator.pk]},
    )
    assert shown.status_code == 200 and "no-store" in shown["Cache-Control"]
    (link,) = re.findall(r"<code>([^<]+)</code>", shown.text)
    assert AuditEvent.objects.get().action == "two_factor_link_issued"
    # The coordinator opens it before signing in (signing in first would spend it).
    client.logout()
    opened = client.get(link.removeprefix(django_settings.SITE_URL))
    signed_in = client.post(
        opened["Location"],
        {"username": "aigerim", "password": PASSWORD, "next": "/accounts/two-factor/"},
    )
    assert signed_in["Location"] == "/accounts/two-factor/"
    assert "<svg" in client.get("/accounts/two-factor/").text


def test_only_superusers_may_issue_setup_links(client, coordinator):
    coordinator.user_permissions.add(*Permission.objects.filter(codename__endswith="_user"))
    client.force_login(coordinator)
    page = client.get("/admin/auth/user/")
    assert page.status_code == 200 and "issue_two_factor_setup_link" not in page.text


def test_the_server_prints_a_setup_link_for_the_first_superuser(superuser):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("two_factor_link", "root", stdout=out, stderr=StringIO())
    assert "/accounts/two-factor/setup/" in out.getvalue()


def test_the_next_sign_in_asks_for_the_code_of_the_confirmed_device(client, coordinator, settings):
    settings.AIDHUB_REQUIRE_2FA = True
    TOTPDevice.objects.create(user=coordinator, name="phone", confirmed=True)
    client.force_login(coordinator)
    page = client.get("/accounts/two-factor/")
    assert "Enter the 6-digit code" in page.text and "<svg" not in page.text
    assert client.get("/admin/").status_code == 302


def test_volunteers_and_donors_sign_in_with_a_password_only(client, settings):
    settings.AIDHUB_REQUIRE_2FA = True
    volunteer = MembershipFactory(role="volunteer", user=UserFactory(username="bakyt")).user
    client.force_login(volunteer)
    assert client.get("/deliveries/").status_code == 200


def test_the_second_step_never_redirects_off_site(client, coordinator, settings):
    settings.AIDHUB_REQUIRE_2FA = True
    device = TOTPDevice.objects.create(user=coordinator, name="phone", confirmed=True)
    client.force_login(coordinator)
    response = client.post(
        "/accounts/two-factor/", {"token": code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


@pytest.mark.limits
def test_the_public_api_is_throttled_per_address(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min", "user": "3/min"},
    }
    statuses = [client.get("/api/v1/hubs/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


@pytest.mark.limits
def test_subscription_form_is_rate_limited(client):
    data = {"scope": "ledger", "ref": "", "channel": "webhook", "address": "https://x.example/h"}
    statuses = [client.post("/notifications/subscribe/", data).status_code for _ in range(11)]
    assert statuses[-1] == 429 and 429 not in statuses[:10]


# ---- who is counted: the visitor behind the proxy -------------------------------------------

PROXY = "10.0.0.1"  # the reverse proxy gunicorn sees as REMOTE_ADDR


def via_proxy(address: str, spoofed: str = "") -> dict[str, str]:
    """What the proxy passes on: whatever the visitor wrote, then the address it saw."""
    chain = f"{spoofed}, {address}" if spoofed else address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": chain}


def test_with_one_trusted_proxy_the_spoofed_leftmost_addresses_change_nothing(rf, settings):
    from aidhub.ratelimits import client_address

    settings.AIDHUB_TRUSTED_PROXIES = 1
    seen = {
        client_address(rf.get("/", **via_proxy("203.0.113.7", spoofed=spoofed)))
        for spoofed in ["", "198.51.100.1", "1.1.1.1, 2.2.2.2", "not-an-address", "::1", "\x00"]
    }
    assert seen == {"203.0.113.7"}
    # Straight to gunicorn, not through the proxy: the connecting address.
    assert client_address(rf.get("/", REMOTE_ADDR="10.0.0.9")) == "10.0.0.9"


@pytest.mark.parametrize("proxies", [0, 1])
def test_an_ipv6_visitor_is_counted_by_their_64_so_rotating_addresses_gains_nothing(
    rf, settings, proxies
):
    from aidhub.ratelimits import client_address

    settings.AIDHUB_TRUSTED_PROXIES = proxies
    seen = set()
    for host in ["1", "abcd:ef01:2345:6789", "ffff:ffff:ffff:ffff"]:
        visitor = f"2001:db8:aaaa:bbbb:{host}" if ":" in host else f"2001:db8:aaaa:bbbb::{host}"
        meta = via_proxy(visitor) if proxies else {"REMOTE_ADDR": visitor}
        seen.add(client_address(rf.get("/", **meta)))
    assert seen == {"2001:db8:aaaa:bbbb::"}
    # Another /64 is another visitor; IPv4 addresses are counted whole.
    assert (
        client_address(rf.get("/", REMOTE_ADDR="2001:db8:aaaa:cccc::1")) != "2001:db8:aaaa:bbbb::"
    )
    settings.AIDHUB_TRUSTED_PROXIES = 0
    assert client_address(rf.get("/", REMOTE_ADDR="203.0.113.7")) == "203.0.113.7"


def test_without_a_trusted_proxy_forwarded_for_is_ignored(rf, settings):
    from aidhub.ratelimits import client_address

    settings.AIDHUB_TRUSTED_PROXIES = 0
    assert client_address(rf.get("/", **via_proxy("203.0.113.7"))) == PROXY


def test_two_trusted_proxies_take_the_address_the_outer_one_saw(rf, settings):
    from aidhub.ratelimits import client_address

    settings.AIDHUB_TRUSTED_PROXIES = 2
    request = rf.get(
        "/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 192.0.2.50"
    )
    assert client_address(request) == "203.0.113.7"


@pytest.mark.limits
def test_wrong_passwords_from_one_address_do_not_lock_the_account_elsewhere(
    client, coordinator, settings
):
    settings.AIDHUB_TRUSTED_PROXIES = 1
    wrong = {"username": "aigerim", "password": "wrong"}
    for _ in range(5):
        client.post("/accounts/login/", wrong, **via_proxy("203.0.113.66"))
    right = {"username": "aigerim", "password": PASSWORD}
    locked = client.post("/accounts/login/", right, **via_proxy("203.0.113.66", spoofed="1.2.3.4"))
    assert locked.status_code == 429  # the attacker's own address stays locked, header or not
    response = client.post("/accounts/login/", right, **via_proxy("198.51.100.20"))
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(coordinator.pk)


@pytest.mark.limits
def test_many_sign_ins_from_one_address_do_not_block_sign_in_from_another(
    client, coordinator, settings
):
    settings.AIDHUB_TRUSTED_PROXIES = 1
    statuses = [
        client.post(
            "/accounts/login/",
            {"username": f"u{n}", "password": "x"},
            **via_proxy("203.0.113.66", spoofed=f"192.0.2.{n}"),
        ).status_code
        for n in range(12)
    ]
    assert statuses[-1] == 429  # that one address is slowed down, whatever it writes in front
    response = client.post(
        "/accounts/login/",
        {"username": "aigerim", "password": PASSWORD},
        **via_proxy("198.51.100.20"),
    )
    assert response.status_code == 302


@pytest.mark.limits
def test_the_api_throttle_counts_the_visitor_behind_the_proxy(client, settings):
    settings.AIDHUB_TRUSTED_PROXIES = 1
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min", "user": "3/min"},
    }
    first = [
        client.get("/api/v1/hubs/", **via_proxy("203.0.113.66", spoofed=f"192.0.2.{n}"))
        for n in range(4)
    ]
    assert [response.status_code for response in first] == [200, 200, 200, 429]
    assert client.get("/api/v1/hubs/", **via_proxy("198.51.100.20")).status_code == 200


# ---- no server errors from odd addresses ----------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/ledger/receipt/a%00b/",
        "/ledger/receipt/?code=a%00b",
        "/ledger/evidence/ab%00",
        "/ledger/evidence/ab%00/thumb",
        "/notifications/confirm/a%00b/",
        "/notifications/unsubscribe/a%00b/",
        "/hubs/?q%00=1",
    ],
)
def test_a_nul_character_in_the_address_is_a_bad_request(client, url):
    """PostgreSQL cannot compare text holding NUL; CI runs this on PostgreSQL too."""
    assert client.get(url).status_code == 400


def test_the_admin_sign_in_page_opens_when_signed_out(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200


@pytest.fixture
def superuser():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_a_fundraisers_admin_page_opens(client, superuser):
    import datetime
    from decimal import Decimal

    from donations.models import Fundraiser

    fundraiser = Fundraiser.objects.create(
        slug="almaty-for-batken", title="Almaty for Batken", **organised_by(superuser),
        goal_amount=Decimal("10500000"), currency="KZT", starts_on=datetime.date(2026, 11, 28),
    )  # fmt: skip
    client.force_login(superuser)
    response = client.get(f"/admin/donations/fundraiser/{fundraiser.pk}/change/")
    assert response.status_code == 200
    assert "almaty-for-batken" in response.text  # shown, not editable
    assert client.get("/admin/donations/fundraiser/add/").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "created_at__year=99999",
        "created_at__year=9999",
        "created_at__year=9999&created_at__month=12",
        "created_at__year=9999&created_at__month=12&created_at__day=31",
        "created_at__year=1",
        "created_at__year=-5",
        "created_at__year=99999999999999999999",
    ],
)
def test_impossible_years_in_the_admins_date_filter_are_no_server_error(client, superuser, query):
    client.force_login(superuser)
    for admin_path in ["aidhub/auditevent", "hubs/stockmovement", "axes/accessattempt"]:
        response = client.get(f"/admin/{admin_path}/?{query}")
        assert response.status_code in (200, 302), admin_path


def test_every_admin_with_a_date_hierarchy_bounds_its_dates():
    """Installed apps' admins too: the site bounds every admin registered with it."""
    from django.contrib import admin

    from aidhub.adminsite import BoundedDates

    dated = [a for a in admin.site._registry.values() if a.date_hierarchy]
    assert dated and all(isinstance(a, BoundedDates) for a in dated)


# ---- headers, sessions and uploads ----------------------------------------------------------


def test_every_page_forbids_the_browsers_powerful_features(client):
    policy = client.get("/hubs/")["Permissions-Policy"]
    features = dict(part.split("=") for part in policy.split(", "))
    assert features["camera"] == features["geolocation"] == features["microphone"] == "()"
    assert set(features.values()) == {"()"}
    assert client.get("/static/js/sw.js")["Permissions-Policy"] == policy


def test_a_volunteers_session_lasts_a_week_and_a_coordinators_twelve_hours(client, coordinator):
    volunteer = MembershipFactory(role="volunteer", user=UserFactory(username="bakyt")).user
    client.post("/accounts/login/", {"username": "bakyt", "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(volunteer.pk)
    assert client.session.get_expiry_age() == 7 * 24 * 3600
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "aigerim", "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(coordinator.pk)
    assert client.session.get_expiry_age() == 12 * 3600


def test_the_session_lengths_are_settings(client, coordinator, settings):
    settings.STAFF_SESSION_HOURS = 2
    client.post("/accounts/login/", {"username": "aigerim", "password": PASSWORD})
    assert client.session.get_expiry_age() == 2 * 3600


@pytest.fixture
def debug_urls(settings, tmp_path):
    """aidhub.urls as `runserver` with DEBUG on builds it, uploads kept in tmp_path."""
    import importlib

    from django.urls import clear_url_caches

    import aidhub.urls

    settings.MEDIA_ROOT = tmp_path
    settings.DEBUG = True
    importlib.reload(aidhub.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(aidhub.urls)
    clear_url_caches()


def test_with_debug_on_uploads_are_not_served_from_the_media_folder(
    client, settings, tmp_path, debug_urls
):
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "ab12.jpg").write_bytes(b"an unpublished receipt")
    response = client.get(f"{settings.MEDIA_URL}evidence/ab12.jpg")
    assert response.status_code == 404


def test_a_used_link_stays_spent_after_every_device_is_deleted(client, coordinator):
    client.force_login(coordinator)
    link = setup_link(coordinator)
    assert client.get(link).status_code == 302
    TOTPDevice.objects.filter(user=coordinator).delete()  # e.g. an administrator's reset
    assert client.get(link).status_code == 400
    client.force_login(coordinator)
    assert client.get(link).status_code == 400
    assert not TOTPDevice.objects.exists()


def test_signing_in_again_spends_a_setup_link(client, coordinator):
    client.force_login(coordinator)
    link = setup_link(coordinator)
    client.logout()
    client.force_login(coordinator)  # a new last_login
    assert client.get(link).status_code == 400
    assert not TOTPDevice.objects.exists()


def test_a_link_opened_signed_out_keeps_its_token_out_of_the_sign_in_address(
    client, coordinator, settings
):
    settings.AIDHUB_REQUIRE_2FA = True
    link = setup_link(coordinator)
    token = link.rstrip("/").rsplit("/", 1)[1]
    opened = client.get(link)
    assert opened["Location"] == "/accounts/login/?next=/accounts/two-factor/"
    assert token not in opened["Location"]
    assert not TOTPDevice.objects.exists()  # nothing happens before the password
    signed_in = client.post(
        "/accounts/login/",
        {"username": "aigerim", "password": PASSWORD, "next": "/accounts/two-factor/"},
    )
    assert signed_in["Location"] == "/accounts/two-factor/"
    page = client.get("/accounts/two-factor/")
    assert "<svg" in page.text and token not in page.text
    assert TOTPDevice.objects.filter(user=coordinator, confirmed=False).count() == 1
    client.logout()
    assert client.get(link).status_code == 400  # signing in spent it


def test_a_link_opened_signed_out_serves_only_the_account_it_names(client, coordinator):
    other = UserFactory(username="dana")
    assert client.get("/accounts/two-factor/setup/1-zz-abc/").status_code == 400
    client.get(setup_link(other))
    client.post("/accounts/login/", {"username": "aigerim", "password": PASSWORD})
    assert "<svg" not in client.get("/accounts/two-factor/").text
    assert not TOTPDevice.objects.exists()


@pytest.mark.limits
def test_e_mailing_setup_links_is_limited_per_account_with_the_same_answer(client, coordinator):
    from django.core import mail

    coordinator.email = "aigerim@example.org"
    coordinator.save()
    client.force_login(coordinator)
    answers = [
        client.post("/accounts/two-factor/", {"send_link": "1", "next": "/"}).text for _ in range(4)
    ]
    assert len(mail.outbox) == 3
    assert all("on its way" in answer for answer in answers)
    notices = [re.search(r'alert-info">([^<]+)<', answer).group(1) for answer in answers]
    assert len(set(notices)) == 1


def test_a_setup_link_opened_signed_out_in_two_browsers_enrols_in_one_only(coordinator, settings):
    from django.test import Client

    settings.AIDHUB_REQUIRE_2FA = True
    link = setup_link(coordinator)
    first, second = Client(), Client()
    assert first.get(link).status_code == 302
    # The first opening spent the link: the second browser is refused and gets no grant.
    assert second.get(link).status_code == 400
    for browser in (first, second):
        browser.post("/accounts/login/", {"username": "aigerim", "password": PASSWORD})
    page = first.get("/accounts/two-factor/")
    assert "<svg" in page.text
    device = TOTPDevice.objects.get(user=coordinator, confirmed=False)
    assert "<svg" not in second.get("/accounts/two-factor/").text
    assert list(TOTPDevice.objects.filter(user=coordinator)) == [device]  # still the first's


def test_a_grant_stops_counting_once_a_newer_opening_happened(coordinator, settings):
    """Even a grant the session holds is honoured only while its opening is the account's
    latest: a link opened since (here, signed in elsewhere) takes over."""
    from django.test import Client

    settings.AIDHUB_REQUIRE_2FA = True
    signed_out, elsewhere = Client(), Client()
    assert signed_out.get(setup_link(coordinator)).status_code == 302
    elsewhere.force_login(coordinator)
    assert elsewhere.get(setup_link(coordinator)).status_code == 302
    device = TOTPDevice.objects.get(user=coordinator, confirmed=False)
    signed_out.post("/accounts/login/", {"username": "aigerim", "password": PASSWORD})
    assert "<svg" not in signed_out.get("/accounts/two-factor/").text
    assert list(TOTPDevice.objects.filter(user=coordinator)) == [device]
