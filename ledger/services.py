"""Every write to the public ledger. Domain apps call these and nothing else of the ledger.

`append` runs inside the caller's transaction: the domain rows and their entry commit together
or not at all. The head row is locked by a conditional UPDATE, so concurrent appends on
PostgreSQL queue up behind it and indexes are gapless and unique.
"""

import hashlib
import io
import logging
import re
import secrets
from datetime import UTC, datetime
from decimal import Decimal

import rfc8785
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aidhub.pagecache import version_forget
from notifications import services as notifications

from . import keys, merkle
from .models import Checkpoint, Evidence, LedgerEntry, LedgerHead, LedgerRef, LedgerTotal, TreeNode
from .note import checkpoint_body, sign_note
from .schemas import PayloadError, validate_payload
from .store import DatabaseNodeStore
from .verify import leaf_hash as compute_leaf_hash

logger = logging.getLogger(__name__)
RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud on a phone
# The cache key of queries.version(), which the public ledger pages are keyed by.
PAGE_VERSION_KEY = "ledger:page-version"


def utc_timestamp(moment: datetime) -> str:
    """The ledger's time format: UTC, ISO 8601, whole seconds, with a Z."""
    if timezone.is_naive(moment):
        raise ValueError("ledger times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def leaf_bytes(*, index: int, kind: str, time: str, payload: dict) -> bytes:
    """RFC 8785 canonical JSON of the whole entry: the exact bytes that are hashed."""
    return rfc8785.dumps({"index": index, "kind": kind, "payload": payload, "time": time})


@transaction.atomic
def append(*, kind: str, payload: dict, at: datetime | None = None) -> LedgerEntry:
    """Validate `payload` against its kind's schema and append it as the next entry.

    Raises PayloadError (a ValidationError) with a clear message, writing nothing, when the
    payload breaks its schema, carries personal data, names unknown evidence, or reverses an
    entry that cannot be reversed.
    """
    validate_payload(kind, payload)
    reversed_entry = _check_correction(kind, payload)
    evidence = _check_evidence(payload.get("evidence", []))

    index = _claim_next_index()
    moment = (at or timezone.now()).replace(microsecond=0)
    leaf = leaf_bytes(index=index, kind=kind, time=utc_timestamp(moment), payload=payload)
    digest = compute_leaf_hash(leaf)
    direction, currency, amount = _money_effect(kind, payload, reversed_entry)
    entry = LedgerEntry.objects.create(
        index=index,
        kind=kind,
        leaf=leaf,
        leaf_hash=digest,
        created_at=moment,
        reverses=reversed_entry,
        direction=direction,
        currency=currency,
        amount=amount,
    )
    store = DatabaseNodeStore()
    TreeNode.objects.bulk_create(
        TreeNode(level=level, position=position, hash=node)
        for level, position, node in merkle.nodes_to_store_after_append(index, digest, store)
    )
    refs = _refs_of(payload, reversed_entry)
    LedgerRef.objects.bulk_create(
        LedgerRef(entry=entry, scope=scope, ref=ref, label=label) for scope, ref, label in refs
    )
    if direction:
        _add_to_totals(refs, direction, currency, amount)
    if evidence:
        Evidence.objects.filter(sha256__in=evidence).update(published=True)
    return entry


def _claim_next_index() -> int:
    # The conditional UPDATE takes the head row's lock until commit: the next append waits.
    version_forget(PAGE_VERSION_KEY)
    if not LedgerHead.objects.filter(pk=1).update(size=F("size") + 1):
        # The head row is created by migration; only a flushed test database lacks it.
        LedgerHead.objects.get_or_create(pk=1, defaults={"size": LedgerEntry.objects.count()})
        LedgerHead.objects.filter(pk=1).update(size=F("size") + 1)
    return LedgerHead.objects.values_list("size", flat=True).get(pk=1) - 1


def _check_correction(kind: str, payload: dict) -> LedgerEntry | None:
    if kind != "correction":
        return None
    target = LedgerEntry.objects.filter(index=payload["reverses"]).first()
    if target is None:
        raise PayloadError(_("Entry %(index)s does not exist.") % {"index": payload["reverses"]})
    if target.kind == "correction":
        raise PayloadError(_("A correction cannot itself be reversed; record a new entry."))
    if LedgerEntry.objects.filter(reverses=target).exists():
        raise PayloadError(
            _("Entry %(index)s was already reversed by a correction.") % {"index": target.index}
        )
    return target


def _check_evidence(hashes: list[str]) -> list[str]:
    known = set(Evidence.objects.filter(sha256__in=hashes).values_list("sha256", flat=True))
    missing = [h for h in hashes if h not in known]
    if missing:
        raise PayloadError(
            _("Evidence %(sha)s was never uploaded; store the file before naming it.")
            % {"sha": missing[0]}
        )
    return hashes


def _money_effect(
    kind: str, payload: dict, reversed_entry: LedgerEntry | None
) -> tuple[str, str, Decimal | None]:
    if kind in ("donation", "expense"):
        direction = LedgerEntry.Direction.IN if kind == "donation" else LedgerEntry.Direction.OUT
        money = payload["money"]
        return direction, money["currency"], Decimal(money["amount"])
    if reversed_entry is not None and reversed_entry.direction:
        return reversed_entry.direction, reversed_entry.currency, -reversed_entry.amount
    return "", "", None


def _refs_of(payload: dict, reversed_entry: LedgerEntry | None) -> list[tuple[str, str, str]]:
    refs: dict[tuple[str, str], str] = {}
    fundraisers = list(payload.get("fundraisers", []))
    for key in ("fundraiser", "from_fundraiser", "to_fundraiser"):
        if key in payload:
            fundraisers.append(payload[key])
    for fundraiser in fundraisers:
        refs[("fundraiser", fundraiser["id"])] = fundraiser["title"]
    for key in ("hub", "from_hub", "to_hub"):
        if key in payload:
            refs[("hub", payload[key]["id"])] = payload[key]["name"]
    if "place" in payload:
        refs[("place", payload["place"]["id"])] = payload["place"]["name"]
    if reversed_entry is not None:
        # A correction belongs wherever the entry it reverses belongs.
        for ref in reversed_entry.refs.all():
            refs.setdefault((ref.scope, ref.ref), ref.label)
    return [(scope, ref, label) for (scope, ref), label in refs.items()]


def _add_to_totals(
    refs: list[tuple[str, str, str]], direction: str, currency: str, amount: Decimal
) -> None:
    column = "money_in" if direction == LedgerEntry.Direction.IN else "money_out"
    for scope, ref in [("all", ""), *((scope, ref) for scope, ref, _label in refs)]:
        updated = LedgerTotal.objects.filter(scope=scope, ref=ref, currency=currency).update(
            **{column: F(column) + amount}
        )
        if not updated:
            try:
                with transaction.atomic():
                    LedgerTotal.objects.create(
                        scope=scope, ref=ref, currency=currency, **{column: amount}
                    )
            except IntegrityError:  # a concurrent append created it first
                LedgerTotal.objects.filter(scope=scope, ref=ref, currency=currency).update(
                    **{column: F(column) + amount}
                )


def tree_size() -> int:
    head = LedgerHead.objects.filter(pk=1).values_list("size", flat=True).first()
    return head or 0


def checkpoint_sign() -> Checkpoint | None:
    """Sign a checkpoint of the tree as it is now, unless one of this size exists already.

    Returns the new checkpoint, or None when the tree has not grown since the last one.
    """
    with transaction.atomic():
        size = tree_size()
        if Checkpoint.objects.filter(size=size).exists():
            return None
        root = merkle.root(size, DatabaseNodeStore())
    signer = keys.signer()
    note = sign_note(checkpoint_body(signer.origin, size, root), signer.name, signer.private_key)
    try:
        with transaction.atomic():
            checkpoint = Checkpoint.objects.create(size=size, root_hash=root, note=note)
            version_forget(PAGE_VERSION_KEY)
            # Mirrors and witnesses hear of every checkpoint (webhook or any channel).
            notifications.notify(
                event=f"checkpoint:{size}",
                kind="checkpoint",
                scopes=[("ledger", "")],
                context={"size": size, "note": note, "path": "/api/ledger/checkpoint"},
            )
            transaction.on_commit(exports_enqueue)
            return checkpoint
    except IntegrityError:  # another process signed this size at the same moment
        return None


@transaction.atomic
def evidence_store(*, data: bytes, content_type: str) -> Evidence:
    """Keep a file that an entry will name, under the SHA-256 of its exact bytes.

    The caller has already checked and re-encoded the file; what is stored here is what is
    published and hashed. Storing the same bytes twice returns the first row.
    """
    digest = hashlib.sha256(data).hexdigest()
    # Locked until commit: a discard of the same bytes (a proof photo's unblurred original, a
    # rejected photo) waits for this upload, then sees what names the file.
    existing = Evidence.objects.select_for_update().filter(sha256=digest).first()
    if existing is not None:
        return existing
    extension = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}.get(
        content_type, "pdf" if content_type == "application/pdf" else "bin"
    )
    evidence = Evidence(sha256=digest, content_type=content_type, size=len(data))
    evidence.file.save(f"{digest}.{extension}", ContentFile(data), save=False)
    evidence.save(force_insert=True)
    if content_type.startswith("image/"):
        transaction.on_commit(lambda: thumbnail_enqueue(digest))
    return evidence


def exports_enqueue() -> None:
    """Ask a worker to add the newly signed entries to the export files. A broker that is down
    only delays them: the next checkpoint's task, or the first download, catches up."""
    from .tasks import exports_update

    try:
        exports_update.delay()
    except Exception as exc:  # the broker's errors vary by transport; all mean "later"
        logger.warning("export files not updated (%s); the next checkpoint will", exc)


@transaction.atomic
def evidence_discard(*, sha256: str) -> bool:
    """Forget a file that no entry names, such as a proof photo replaced by its blurred copy:
    its row now, its bytes (and thumbnail) once the transaction commits. A published file is
    never discarded: the ledger commits to it. True if it was discarded."""
    evidence = Evidence.objects.select_for_update().filter(sha256=sha256, published=False).first()
    if evidence is None:
        return False
    storage = evidence.file.storage
    names = [stored.name for stored in (evidence.file, evidence.thumbnail) if stored]
    evidence.delete()
    transaction.on_commit(lambda: [storage.delete(name) for name in names])
    return True


def thumbnail_enqueue(sha256: str) -> None:
    """Ask a worker for the thumbnail. A broker that is down must not fail the request that
    stored the file: `thumbnails_sweep` makes the missing ones later."""
    from .tasks import evidence_thumbnail

    try:
        evidence_thumbnail.delay(sha256)
    except Exception as exc:  # the broker's errors vary by transport; all mean "later"
        logger.warning("thumbnail of %s not enqueued (%s); the sweep will make it", sha256, exc)


def thumbnails_sweep(limit: int = 500) -> int:
    """Queue thumbnails for images that have none yet (run by beat)."""
    missing = Evidence.objects.filter(thumbnail="", content_type__startswith="image/")
    hashes = list(missing.values_list("sha256", flat=True)[:limit])
    for sha256 in hashes:
        thumbnail_enqueue(sha256)
    return len(hashes)


def make_thumbnail(evidence: Evidence, *, longest_side: int = 240) -> None:
    """A small WebP preview for lists, well under 20 KB."""
    from PIL import Image

    with evidence.file.open("rb") as handle, Image.open(io.BytesIO(handle.read())) as image:
        image.thumbnail((longest_side, longest_side))
        out = io.BytesIO()
        image.convert("RGB").save(out, "WEBP", quality=60, method=4)
    evidence.thumbnail.save(f"{evidence.sha256}.webp", ContentFile(out.getvalue()), save=False)
    if not Evidence.objects.filter(pk=evidence.pk).update(thumbnail=evidence.thumbnail.name):
        evidence.thumbnail.delete(save=False)  # discarded meanwhile: keep no copy of it


# Cyrillic letters that look like the Latin ones of the alphabet: a donor typing on a Russian,
# Kyrgyz or Kazakh keyboard layout reads "K7QM-3XPA" and types some of them in Cyrillic.
_RECEIPT_LOOKALIKES = str.maketrans("АВЕКМНРСТХУ", "ABEKMHPCTXY")


def receipt_code_normal(text: str) -> str:
    """The code as issued ("K7QM3-XPA2B") from what a donor typed: any case, with or without
    the hyphen, with spaces or another dash, Cyrillic look-alike letters. Text that cannot be
    a code comes back as typed (upper case, at most 32 characters), so the answer is "not found"."""
    upper = text.strip().upper()[:32]
    raw = re.sub(r"[\s\-\u2010-\u2015.]", "", upper).translate(_RECEIPT_LOOKALIKES)
    if len(raw) == 10 and all(c in RECEIPT_ALPHABET for c in raw):
        return f"{raw[:5]}-{raw[5:]}"
    return upper


def receipt_code_issue(*, entry: LedgerEntry) -> str:
    """A short code the donor keeps to find their own entry, e.g. "K7QM-3XPA"."""
    from .models import ReceiptCode

    for _attempt in range(5):
        raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(10))
        code = f"{raw[:5]}-{raw[5:]}"
        try:
            with transaction.atomic():
                ReceiptCode.objects.create(code=code, entry=entry)
            return code
        except IntegrityError:
            continue
    raise RuntimeError("could not find a free receipt code")
