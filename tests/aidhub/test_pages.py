import pytest
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_home_page_renders_for_anonymous_visitor(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Mutual aid, in the open" in response.text
    assert 'lang="en"' in response.text


def test_home_page_is_russian_when_browser_asks_for_russian(client):
    response = client.get("/", headers={"accept-language": "ru"})
    assert 'lang="ru"' in response.text
    assert "Взаимопомощь у всех на виду" in response.text
    assert "Войти" in response.text


def test_choosing_kyrgyz_in_the_switcher_translates_the_base_page(client):
    response = client.post(reverse("set_language"), {"language": "ky", "next": "/"})
    assert response.status_code == 302
    response = client.get("/")
    assert 'lang="ky"' in response.text
    assert "Ачык өз ара жардам" in response.text
    assert "Кирүү" in response.text


@pytest.mark.parametrize(
    ("language", "log_in"),
    [("ru", "Войти"), ("ky", "Кирүү"), ("kk", "Кіру"), ("uz", "Kirish"), ("tg", "Даромад")],
)
def test_every_language_translates_the_base_template(client, language, log_in):
    response = client.get("/", headers={"accept-language": language})
    assert f'lang="{language}"' in response.text
    assert log_in in response.text
    assert "Skip to content" not in response.text


def test_language_switcher_offers_all_six_languages(client):
    response = client.get("/")
    for code in ["en", "ru", "ky", "kk", "uz", "tg"]:
        assert f'value="{code}"' in response.text


def test_pages_send_a_content_security_policy_with_only_our_own_origin(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'name="username"' in response.text


def test_user_can_log_in_and_out(client, volunteer):
    response = client.post(reverse("login"), {"username": "bob", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").context["user"] == volunteer
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert not client.get("/").context["user"].is_authenticated


def test_wrong_password_is_refused_with_a_message(client, volunteer):
    response = client.post(reverse("login"), {"username": "bob", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text


def test_unknown_page_is_a_friendly_404(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "There is nothing here" in response.text
