import pytest
from django.core.management import CommandError, call_command

from hubs.models import Item, Place
from tests.factories import PlaceFactory, RegionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def batken():
    return RegionFactory()


def write(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_places_are_imported_and_updated_by_slug(tmp_path, batken, capsys):
    PlaceFactory(slug="isfana", name="Old name")
    path = write(tmp_path, (
        "slug,name,kind,region,district,latitude,longitude,population_displaced\n"
        "isfana,Isfana,town,batken,Leilek,39.84,69.53,4200\n"
        ",Ak-Sai,village,Batken,Batken,,,\n"
    ))  # fmt: skip
    call_command("import_catalogue", "places", str(path))
    assert "1 places created, 1 updated" in capsys.readouterr().out
    isfana = Place.objects.get(slug="isfana")
    assert (isfana.name, isfana.population_displaced) == ("Isfana", 4200)
    assert Place.objects.get(slug="ak-sai").region == batken


def test_a_bad_row_stops_the_whole_import_naming_its_line(tmp_path, batken):
    path = write(tmp_path, (
        "name,kind,region\n"
        "Ak-Sai,village,batken\n"
        "Atlantis,village,nowhere\n"
        "Kara-Bak,castle,batken\n"
    ))  # fmt: skip
    with pytest.raises(CommandError) as caught:
        call_command("import_catalogue", "places", str(path))
    message = str(caught.value)
    assert "line 3: unknown region “nowhere”" in message
    assert "line 4: kind must be one of" in message
    assert not Place.objects.exists()


def test_a_missing_column_is_named(tmp_path, batken):
    path = write(tmp_path, "name\nAk-Sai\n")
    with pytest.raises(CommandError, match="no column region"):
        call_command("import_catalogue", "places", str(path))


def test_items_import_with_translations_and_a_dry_run(tmp_path, capsys):
    path = write(tmp_path, (
        "slug,name,name_ru,name_ky,category,unit\n"
        "nappies,Nappies,Подгузники,Жалаяктар,baby,pack\n"
    ))  # fmt: skip
    call_command("import_catalogue", "items", str(path), "--dry-run")
    assert not Item.objects.exists()
    call_command("import_catalogue", "items", str(path))
    assert Item.objects.get(slug="nappies").name_ky == "Жалаяктар"
    bad = write(tmp_path, "name,category,unit\nNappies,babies,pack\n")
    with pytest.raises(CommandError, match="line 2: category must be one of"):
        call_command("import_catalogue", "items", str(bad))


def test_a_file_that_is_not_utf8_is_a_clear_error(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes("name,region\nАк-Сай,batken\n".encode("cp1251"))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_catalogue", "places", str(path))
