"""Groups in the admin: superusers create them; each group's organisers see and manage only
their own group's members and never an account outside it, even by a typed URL."""

import pytest

from aidhub.models import AuditEvent
from groups.models import Group, Member, Role
from tests.factories import PASSWORD, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

MEMBERS = "/admin/groups/member/"


def signed_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_a_superuser_creates_a_group_with_its_first_organiser(client, superuser):
    dana = UserFactory(username="dana")
    form = signed_in(client, superuser).get("/admin/groups/group/add/")
    assert 'name="first_organiser"' in form.text and "dana" in form.text
    response = client.post(
        "/admin/groups/group/add/",
        {"name_en": "Almaty initiative", "name_ru": "Алматинская инициатива",
         "slug": "almaty", "country": "KZ", "description_en": "", "is_active": "on",
         "first_organiser": dana.pk},
    )  # fmt: skip
    assert response.status_code == 302, response.context["adminform"].form.errors
    group = Group.objects.get(slug="almaty")
    assert group.name_ru == "Алматинская инициатива"
    assert Member.objects.get(group=group).user == dana
    assert AuditEvent.objects.filter(action="group created", actor=superuser).exists()


def test_djangos_own_permission_groups_are_not_in_the_admin(client, superuser):
    assert signed_in(client, superuser).get("/admin/auth/group/").status_code == 404


def test_an_organiser_sees_only_their_own_group_and_its_members(
    client, almaty, batken, organiser, volunteer, other_organiser
):
    signed_in(client, organiser)
    groups = client.get("/admin/groups/group/")
    assert "Almaty initiative" in groups.text and "Batken volunteers" not in groups.text
    members = client.get(MEMBERS)
    assert "bakyt" in members.text and "zarina" not in members.text
    # The group filter lists their groups only.
    assert "Batken volunteers" not in members.text
    theirs = Member.objects.get(user=other_organiser)
    for url in (f"{MEMBERS}{theirs.pk}/change/", f"/admin/groups/group/{batken.pk}/change/"):
        response = client.get(url, follow=True)
        assert "zarina" not in response.text and "Batken volunteers" not in response.text


def test_an_organiser_sees_no_account_list_anywhere(client, organiser, volunteer):
    signed_in(client, organiser)
    assert client.get("/admin/auth/user/").status_code == 403
    autocomplete = "/admin/autocomplete/?app_label=groups&model_name=member&field_name=user"
    assert client.get(autocomplete).status_code == 403
    outsider = UserFactory(username="stranger")
    page = client.get(f"{MEMBERS}{volunteer.pk}/change/")
    assert page.status_code == 200 and "stranger" not in page.text
    add = client.get(f"{MEMBERS}add/")  # the invitation form: a typed name, no list
    assert add.status_code == 200 and outsider.username not in add.text
    assert "<select" in add.text and "zarina" not in add.text


def test_an_organiser_changes_a_members_role_and_marks_them_unreachable(
    client, almaty, organiser, volunteer
):
    response = signed_in(client, organiser).post(
        f"{MEMBERS}{volunteer.pk}/change/", {"role": "treasurer", "unreachable": "on"}
    )
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert (volunteer.role, volunteer.unreachable) == ("treasurer", True)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"member role changed", "member marked unreachable"} <= actions


def test_an_organiser_cannot_make_someone_an_organiser(client, organiser, volunteer):
    response = signed_in(client, organiser).post(
        f"{MEMBERS}{volunteer.pk}/change/", {"role": "organiser"}
    )
    assert response.status_code == 200
    assert "only with a second" in response.text
    volunteer.refresh_from_db()
    assert volunteer.role == "volunteer"


def test_an_organisers_row_is_read_only_to_the_organisers(client, almaty, organiser):
    row = Member.objects.get(user=organiser)
    response = signed_in(client, organiser).post(
        f"{MEMBERS}{row.pk}/change/", {"role": "volunteer"}
    )
    assert response.status_code == 403
    assert client.post(f"{MEMBERS}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Member.objects.filter(pk=row.pk, role="organiser").exists()


def test_the_last_organiser_is_neither_demoted_nor_removed_even_by_a_superuser(
    client, almaty, organiser, superuser
):
    row = Member.objects.get(user=organiser)
    signed_in(client, superuser)
    demoted = client.post(f"{MEMBERS}{row.pk}/change/", {"role": "treasurer"})
    assert demoted.status_code == 200 and "last active organiser" in demoted.text
    removed = client.post(f"{MEMBERS}{row.pk}/delete/", {"post": "yes"}, follow=True)
    assert "last active organiser" in removed.text
    action = client.post(
        MEMBERS, {"action": "remove_members", "_selected_action": [row.pk]}, follow=True
    )
    assert "last active organiser" in action.text
    assert Member.objects.filter(pk=row.pk, role="organiser").exists()
    assert not AuditEvent.objects.filter(action__startswith="member").exists()


def test_an_organiser_removes_a_member_and_it_is_audited(client, organiser, volunteer):
    response = signed_in(client, organiser).post(
        MEMBERS, {"action": "remove_members", "_selected_action": [volunteer.pk]}, follow=True
    )
    assert "1 member removed." in response.text
    assert not Member.objects.filter(pk=volunteer.pk).exists()
    assert AuditEvent.objects.get(action="member removed").actor == organiser


def test_another_groups_organiser_cannot_act_on_this_group_by_guessing_ids(
    client, almaty, volunteer, other_organiser
):
    signed_in(client, other_organiser)
    client.post(f"{MEMBERS}{volunteer.pk}/change/", {"role": "treasurer"})
    client.post(f"{MEMBERS}{volunteer.pk}/delete/", {"post": "yes"})
    client.post(MEMBERS, {"action": "remove_members", "_selected_action": [volunteer.pk]})
    client.post(MEMBERS, {"action": "mark_unreachable", "_selected_action": [volunteer.pk]})
    client.post(f"/admin/groups/group/{almaty.pk}/change/", {"name_en": "Taken over"})
    invite = client.post(
        f"{MEMBERS}add/", {"person": "bakyt", "group": almaty.pk, "role": "volunteer"}
    )
    assert invite.status_code == 200  # the form refuses a group that is not theirs
    volunteer.refresh_from_db()
    almaty.refresh_from_db()
    assert (volunteer.role, volunteer.unreachable, almaty.name) == (
        "volunteer", False, "Almaty initiative",
    )  # fmt: skip
    assert not AuditEvent.objects.exists()


def test_a_superuser_adds_an_existing_account_as_a_second_organiser(
    client, almaty, organiser, superuser
):
    aigerim = UserFactory(username="aigerim")
    response = signed_in(client, superuser).post(
        f"{MEMBERS}add/", {"group": almaty.pk, "user": aigerim.pk, "role": "organiser"}
    )
    assert response.status_code == 302
    assert Member.objects.filter(group=almaty, user=aigerim, role=Role.ORGANISER).exists()
    assert AuditEvent.objects.get(action="member added").actor == superuser


def test_an_organiser_words_their_groups_description(client, almaty, organiser):
    form = signed_in(client, organiser).get(f"/admin/groups/group/{almaty.pk}/change/")
    assert form.status_code == 200 and 'name="slug"' not in form.text
    response = client.post(
        f"/admin/groups/group/{almaty.pk}/change/",
        {"name_en": "Almaty initiative", "description_en": "We buy and drive aid."},
    )
    assert response.status_code == 302
    almaty.refresh_from_db()
    assert (almaty.description_en, almaty.country, almaty.slug) == (
        "We buy and drive aid.", "KZ", "almaty-initiative",
    )  # fmt: skip
    assert AuditEvent.objects.get(action="group changed").actor == organiser


def test_an_unreachable_organiser_loses_the_admin(client, almaty, organiser):
    MemberFactory(group=almaty, role=Role.ORGANISER)
    Member.objects.filter(user=organiser).update(unreachable=True)
    assert signed_in(client, organiser).get(MEMBERS).status_code == 403
