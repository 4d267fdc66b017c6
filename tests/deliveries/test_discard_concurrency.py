"""An unblurred original is discarded while someone uploads the same bytes elsewhere, in a
transaction not yet committed: the file stays for that upload."""

import hashlib
import threading
import time
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from aidhub.uploads import CleanFile
from deliveries import services
from deliveries.models import ProofPhoto
from donations import services as donation_services
from donations.models import Donation, Fundraiser
from hubs import services as hub_services
from hubs.models import Membership
from ledger import services as ledger_services
from ledger.models import Evidence
from tests.deliveries.test_faces import face_photo
from tests.factories import (
    HubFactory,
    ItemFactory,
    MembershipFactory,
    PlaceFactory,
    UserFactory,
    organised_by,
)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL"
)


def stored_hashes(media) -> set[str]:
    return {hashlib.sha256(p.read_bytes()).hexdigest() for p in media.rglob("*") if p.is_file()}


def _dispatched(hub, flour, coordinator, volunteer):
    delivery = services.delivery_plan(
        hub=hub, place=PlaceFactory(), lines=[(flour, Decimal("1"))], by=coordinator
    )
    services.delivery_claim(delivery=delivery, volunteer=volunteer)
    services.delivery_dispatch(delivery=delivery, volunteer=volunteer)
    return delivery


def _another_proof(setup, data, pause):
    delivery = setup["second"]
    services.delivery_report(
        delivery=delivery,
        volunteer=setup["volunteer"],
        people=2,
        photos=[CleanFile(data, "image/jpeg")],
    )
    pause()  # the photo's row is written, not committed
    return lambda: ProofPhoto.objects.filter(proof__delivery=delivery).values_list(
        "evidence_sha256", flat=True
    )


def _a_donation_screenshot(setup, data, pause):
    append = ledger_services.append

    def paused_append(**kwargs):
        pause()  # the screenshot is stored, its entry (which publishes it) not yet written
        return append(**kwargs)

    with mock.patch.object(ledger_services, "append", paused_append):
        donation = donation_services.donation_record(
        fundraiser=setup["fundraiser"], amount="100.00", currency="KZT",
            received_at=timezone.now(), channel="bank_transfer", by=setup["coordinator"],
            evidence=CleanFile(data, "image/jpeg"), evidence_covered=True,
        )  # fmt: skip
    return lambda: [Donation.objects.get(pk=donation.pk).evidence_sha256]


@pytest.mark.parametrize("upload", [_another_proof, _a_donation_screenshot])
def test_an_upload_of_the_same_bytes_in_flight_keeps_the_original(
    upload, ledger_transactional_db, media, monkeypatch
):
    monkeypatch.setattr(services, "_blur_enqueue", lambda ids: None)  # blur by hand below
    hub, flour = HubFactory(), ItemFactory()
    coordinator = MembershipFactory(hub=hub, user=UserFactory(username="aigerim")).user
    volunteer = MembershipFactory(
        hub=hub, role=Membership.Role.VOLUNTEER, user=UserFactory(username="bakyt")
    ).user
    hub_services.hub_receive_goods(hub=hub, lines=[(flour, Decimal("10"))], by=None)
    original = face_photo()
    first = _dispatched(hub, flour, coordinator, volunteer)
    photo = services.delivery_report(
        delivery=first, volunteer=volunteer, people=4, photos=[CleanFile(original, "image/jpeg")]
    ).photos.get()
    setup = {
        "second": _dispatched(hub, flour, coordinator, volunteer),
        "volunteer": volunteer,
        "coordinator": coordinator,
        "fundraiser": Fundraiser.objects.create(
            slug="almaty-for-batken",
            title="Almaty for Batken",
            **organised_by(coordinator),
            goal_amount=Decimal("1000000"),
            currency="KZT",
            starts_on=timezone.localdate(),
        ),
    }
    uploaded = threading.Event()
    errors: list[BaseException] = []
    names: list = []

    def pause():
        uploaded.set()
        time.sleep(1.5)  # the discard runs meanwhile

    def upload_and_linger():
        try:
            with transaction.atomic():
                names.append(upload(setup, original, pause))
        except BaseException as exc:
            errors.append(exc)
            uploaded.set()
        finally:
            connections.close_all()

    def blur():
        try:
            assert uploaded.wait(30)
            services.proof_photo_blur(photo=photo)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=upload_and_linger), threading.Thread(target=blur)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    photo.refresh_from_db()
    assert photo.faces_blurred >= 1  # the blur ran and replaced the first proof's photo
    digest = hashlib.sha256(original).hexdigest()
    assert list(names[0]()) == [digest]
    assert Evidence.objects.filter(sha256=digest).exists()
    assert digest in stored_hashes(media)
