"""One group for what existed before groups: if any hub or fundraiser exists, a group named
after the site (slug "default", country KG) owns them all. Each fundraiser's organiser becomes
its organiser, each hub coordinator a coordinator, each hub volunteer a volunteer. Hub-level
memberships stay as they were."""

from django.db import migrations

SLUG = "default"


def forwards(apps, schema_editor):
    Group = apps.get_model("groups", "Group")
    Member = apps.get_model("groups", "Member")
    Hub = apps.get_model("hubs", "Hub")
    Membership = apps.get_model("hubs", "Membership")
    Fundraiser = apps.get_model("donations", "Fundraiser")
    if not (Hub.objects.exists() or Fundraiser.objects.exists()):
        return
    group, _created = Group.objects.get_or_create(
        slug=SLUG, defaults={"name": "AidHub", "name_en": "AidHub", "country": "KG"}
    )
    Hub.objects.filter(group__isnull=True).update(group=group)
    Fundraiser.objects.filter(group__isnull=True).update(group=group)
    roles = {(user_id, "organiser") for user_id in Fundraiser.objects.values_list("organiser_id", flat=True)}
    roles |= set(Membership.objects.values_list("user_id", "role"))
    Member.objects.bulk_create(
        [Member(group=group, user_id=user_id, role=role) for user_id, role in sorted(roles)],
        ignore_conflicts=True,
    )


def backwards(apps, schema_editor):
    Group = apps.get_model("groups", "Group")
    apps.get_model("hubs", "Hub").objects.filter(group__slug=SLUG).update(group=None)
    apps.get_model("donations", "Fundraiser").objects.filter(group__slug=SLUG).update(group=None)
    Group.objects.filter(slug=SLUG).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("groups", "0001_initial"),
        ("hubs", "0005_hub_group"),
        ("donations", "0008_fundraiser_group"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
