import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from ledger import services
from ledger.checks import check_signing_key
from ledger.keys import signer
from ledger.note import generate_private_key_text, parse_private_key_text
from ledger.verify import parse_verifier_key, verify_note

from .factories import donation


def test_signer_uses_the_key_and_names_from_settings():
    assert signer().name == "aidhub.test/ledger"
    name, _id, _key = parse_verifier_key(signer().verifier_key)
    assert name == "aidhub.test/ledger"


def test_key_for_another_name_is_refused_by_the_system_check(settings):
    settings.LEDGER_SIGNING_KEY = generate_private_key_text("someone.else/ledger")
    errors = check_signing_key(None)
    assert [e.id for e in errors] == ["ledger.E002"]
    assert "someone.else/ledger" in errors[0].msg


def test_garbage_key_is_refused_without_echoing_it(settings):
    settings.LEDGER_SIGNING_KEY = "PRIVATE+KEY+aidhub.test/ledger+00000000+c2VjcmV0"
    with pytest.raises(ImproperlyConfigured) as caught:
        signer()
    assert "c2VjcmV0" not in str(caught.value)


def test_missing_key_fails_the_deploy_check(settings):
    settings.LEDGER_SIGNING_KEY = ""
    assert [e.id for e in check_signing_key(None)] == ["ledger.E001"]


def test_missing_key_without_debug_refuses_to_sign(settings):
    settings.LEDGER_SIGNING_KEY = ""
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match="ledger_keygen"):
        signer()


def test_development_generates_and_keeps_a_key_file(settings, tmp_path):
    settings.LEDGER_SIGNING_KEY = ""
    settings.DEBUG = True
    settings.LEDGER_DEV_KEY_FILE = tmp_path / "key"
    first = signer().verifier_key
    assert (tmp_path / "key").stat().st_mode & 0o777 == 0o600
    assert signer().verifier_key == first


def test_keygen_prints_a_signing_key_and_its_verifier_key(capsys):
    call_command("ledger_keygen", "--name", "aid.example/ledger")
    private, public = capsys.readouterr().out.split()
    name, _key = parse_private_key_text(private)
    assert name == "aid.example/ledger"
    assert public.startswith("aid.example/ledger+")


@pytest.mark.django_db
def test_checkpoint_command_signs_when_grown_and_prints_the_note(capsys):
    services.append(kind="donation", payload=donation())
    call_command("ledger_checkpoint")
    note = capsys.readouterr().out
    assert verify_note(note, signer().verifier_key).splitlines()[1] == "1"
    call_command("ledger_checkpoint")
    assert "has not grown" in capsys.readouterr().out


@pytest.mark.django_db
def test_beat_task_signs_a_checkpoint():
    from ledger.tasks import checkpoint_sign

    services.append(kind="donation", payload=donation())
    assert checkpoint_sign.delay().get() == 1
