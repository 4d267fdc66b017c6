"""A bank statement (CSV) matched against recorded donations: the screenshot practice, made
reliable. Each incoming row either matches a donation already recorded or becomes a new one.

The preview's rows wait in the session until the organiser confirms. The session is one per
browser, so another tab may preview another statement meanwhile: the confirm form carries
`statement_sha256` of the rows its page showed, and `statement_import` records nothing unless
the session still holds exactly those rows."""

import csv
import hashlib
import io
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import rfc8785
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from aidhub import clock
from ledger.money import parse_amount

from . import services
from .models import Donation, Fundraiser

MAX_ROWS = 2000


@dataclass
class Row:
    line: int
    day: str
    amount: str
    currency: str
    reference: str
    status: str  # matched, new, skipped, error
    note: str = ""
    donation_id: int | None = None


def _day(text: str) -> date:
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(_("“%(text)s” is not a date (use 2022-09-18 or 18.09.2022)") % {"text": text})


def statement_preview(fundraiser: Fundraiser, text: str) -> list[Row]:
    reader = csv.DictReader(io.StringIO(text))
    fields = {f.strip().lower() for f in reader.fieldnames or []}
    missing = {"date", "amount", "currency"} - fields
    if missing:
        raise ValidationError(
            _("The statement has no column %(columns)s.") % {"columns": ", ".join(sorted(missing))}
        )
    rows: list[Row] = []
    taken: set[int] = set()
    for raw in reader:
        if len(rows) >= MAX_ROWS:
            raise ValidationError(
                _("A statement can have at most %(n)s rows at a time.") % {"n": MAX_ROWS}
            )
        record = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        row = Row(reader.line_num, record["date"], record["amount"], record["currency"].upper(),
                  record.get("reference", ""), "new")  # fmt: skip
        try:
            day = _day(row.day)
            amount = parse_amount(row.amount.replace(" ", "").replace(",", "."), row.currency,
                                  allow_negative=True)  # fmt: skip
        except (ValueError, ValidationError) as exc:
            row.status, row.note = "error", " ".join(getattr(exc, "messages", [str(exc)]))
            rows.append(row)
            continue
        if amount < 0:
            row.status, row.note = (
                "skipped",
                _("money out: record it as an expense with its receipt"),
            )
        else:
            match = _match(fundraiser, day, amount, row.currency, row.reference, taken)
            if match:
                taken.add(match.pk)
                row.status, row.donation_id = "matched", match.pk
                row.note = _("ledger entry %(index)s") % {"index": match.ledger_index}
        row.amount = f"{amount:f}"
        row.day = day.isoformat()
        rows.append(row)
    return rows


def _match(fundraiser, day, amount, currency, reference, taken) -> Donation | None:
    candidates = Donation.objects.filter(
        fundraiser=fundraiser, currency=currency, amount=amount,
        corrected_by_index__isnull=True,
        received_at__gte=clock.day_start(day - timedelta(days=1)),
        received_at__lte=clock.day_end(day + timedelta(days=1)),
    ).exclude(pk__in=taken).order_by("received_at")  # fmt: skip
    tail = "".join(reference.split())[-4:]
    if tail:
        exact = candidates.filter(bank_reference__endswith=tail).first()
        if exact:
            return exact
    return candidates.first()


def _recorded_since_preview(fundraiser: Fundraiser, rows: list[dict]) -> bool:
    """Whether a row the preview called new now matches a donation, as the preview would
    match it: same bank reference first, else same amount about that day."""
    taken = {row["donation_id"] for row in rows if row["status"] == "matched"}
    for row in rows:
        if row["status"] != "new":
            continue
        day = date.fromisoformat(row["day"])
        amount = Decimal(row["amount"])
        if _match(fundraiser, day, amount, row["currency"], row["reference"], taken):
            return True
    return False


def as_session(rows: list[Row]) -> list[dict]:
    return [asdict(row) for row in rows]


def statement_sha256(rows: list[dict]) -> str:
    """The rows a preview showed, as SHA-256 of their RFC 8785 canonical JSON."""
    return hashlib.sha256(rfc8785.dumps(rows)).hexdigest()


@transaction.atomic
def statement_import(fundraiser: Fundraiser, rows: list[dict], *, previewed_sha256: str, by) -> int:
    """Record every `new` row as a bank-transfer donation, all or nothing, if `rows` are the
    ones the confirmed preview showed (`previewed_sha256`)."""
    if not rows or statement_sha256(rows) != previewed_sha256:
        raise ValidationError(
            _(
                "Nothing was recorded: the statement on this page is no longer the one checked "
                "last (it was checked again or recorded in another tab). Check it again and "
                "confirm what you see."
            ),
            code="stale_preview",
        )
    if any(row["status"] == "error" for row in rows):
        raise ValidationError(_("Fix the rows with errors first."))
    # One import per fundraiser at a time (two tabs confirming the same statement at once):
    # the second waits here, then finds the first's donations and records nothing.
    Fundraiser.objects.select_for_update().filter(pk=fundraiser.pk).first()
    if _recorded_since_preview(fundraiser, rows):
        raise ValidationError(
            _(
                "Nothing was recorded: some of these rows were recorded meanwhile (in another "
                "tab, or by hand). Check the statement again and confirm what you see."
            ),
            code="recorded_meanwhile",
        )
    created = 0
    for row in rows:
        if row["status"] != "new":
            continue
        try:
            services.donation_record(
                fundraiser=fundraiser, amount=Decimal(row["amount"]), currency=row["currency"],
                received_at=clock.moment_on(date.fromisoformat(row["day"])),
                channel=Donation.Channel.BANK_TRANSFER, bank_reference=row["reference"], by=by,
            )  # fmt: skip
        except ValidationError as exc:
            raise ValidationError(
                _("Line %(line)s: %(error)s")
                % {"line": row["line"], "error": " ".join(exc.messages)}
            ) from None
        created += 1
    return created
