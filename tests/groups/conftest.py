import pytest

from groups.models import Role
from tests.factories import GroupFactory, MemberFactory, UserFactory


@pytest.fixture
def almaty(db):
    return GroupFactory(
        slug="almaty-initiative", name="Almaty initiative", name_ru="Алматинская инициатива",
        country="KZ", description="Journalists raising money.",
        description_ru="Журналисты собирают деньги.",
    )  # fmt: skip


@pytest.fixture
def batken(db):
    return GroupFactory(slug="batken-volunteers", name="Batken volunteers", country="KG")


@pytest.fixture
def organiser(almaty):
    user = UserFactory(username="dana", email="dana@example.kz", is_staff=True)
    MemberFactory(group=almaty, user=user, role=Role.ORGANISER)
    return user


@pytest.fixture
def volunteer(almaty):
    user = UserFactory(username="bakyt", email="bakyt@example.kg")
    return MemberFactory(group=almaty, user=user, role=Role.VOLUNTEER)


@pytest.fixture
def other_organiser(batken):
    """An organiser of another group: an outsider to Almaty's."""
    user = UserFactory(username="zarina", email="zarina@example.kg", is_staff=True)
    MemberFactory(group=batken, user=user, role=Role.ORGANISER)
    return user


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)
