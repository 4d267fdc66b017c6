"""A month of a Sports-Palace-sized response, for benchmarks: hubs, volunteers, fundraisers,
donations, verified deliveries with proof, and their ledger entries, filled up to --entries with
goods received at the hubs.

Users, hubs, places and items are made with the ORM; the domain rows with `bulk_create`, in the
same transaction as their ledger entries (`ledger.bulk.append_chunk`), so every row links to its
entry. The invariants the services keep hold here too: stock is simulated in order and never
taken below zero, converted amounts are rounded as `donations.rates.convert` rounds them, and
a fundraiser's rows and its totals (`FundraiserTotal`, added to once a chunk) reconcile with
its ledger entries. Not made: audit-log rows, receipt codes,
notifications (nobody is subscribed), expenses.
"""

import random
import secrets
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import F, Max

from deliveries.models import Delivery, DeliveryLine, ProofOfDelivery, ProofPhoto
from donations.models import Donation, Fundraiser
from donations.rates import convert
from donations.services import fundraiser_total_add
from groups.models import Group, Member, Role
from hubs.models import (
    Category,
    Hub,
    Item,
    Membership,
    Place,
    Region,
    StockLevel,
    StockMovement,
    SupplyRequest,
    SupplyRequestLine,
    Unit,
)
from ledger import bulk, services
from ledger.keys import signer
from ledger.models import LedgerHead
from ledger.money import format_amount

FULL_SIZE = 1_000_000
# A month at Sports-Palace scale; scaled down with --entries, never below the minimum.
SIZES = {
    "hubs": (10, 2),
    "volunteers": (500, 2),
    "donations": (150_000, 1),
    "deliveries": (30_000, 1),
}
PLACES_PER_HUB = 6
CHUNK_ENTRIES = 5_000
TO_KGS = {"KGS": Decimal(1), "KZT": Decimal("0.18"), "USD": Decimal("87.5"), "RUB": Decimal("0.95")}
GOALS = {"KZT": Decimal(50_000_000), "KGS": Decimal(10_000_000), "USD": Decimal(100_000)}
DONATION_CURRENCIES = ["KZT", "KZT", "KZT", "KGS", "KGS", "RUB", "USD"]
FUNDRAISERS = [
    ("batken-2022", "Aid for Batken evacuees", "KZT"),
    ("osh-winter", "Winter clothes for Osh", "KGS"),
    ("leilek-water", "Drinking water for Leilek", "USD"),
    ("isfana-medicine", "Medicine for Isfana hospital", "KGS"),
]
ITEMS = [
    ("flour", "Flour", Category.FOOD, Unit.KG),
    ("rice", "Rice", Category.FOOD, Unit.KG),
    ("drinking-water", "Drinking water", Category.WATER, Unit.LITRE),
    ("blanket", "Blanket", Category.SHELTER, Unit.PIECE),
    ("sleeping-bag", "Sleeping bag", Category.SHELTER, Unit.PIECE),
    ("nappies", "Nappies", Category.BABY, Unit.PACK),
    ("wet-wipes", "Wet wipes", Category.HYGIENE, Unit.PACK),
    ("soap", "Soap", Category.HYGIENE, Unit.PIECE),
    ("first-aid-kit", "First aid kit", Category.MEDICAL, Unit.BOX),
    ("warm-jacket", "Warm jacket", Category.CLOTHING, Unit.PIECE),
]
CHANNELS = [c for c in Donation.Channel.values if c != "other"]


def rate(base: str, quote: str) -> Decimal:
    return (TO_KGS[base] / TO_KGS[quote]).quantize(Decimal("0.00000001"))


def scaled(entries: int, name: str, given: int | None) -> int:
    full, minimum = SIZES[name]
    return given if given is not None else max(minimum, round(full * entries / FULL_SIZE))


@dataclass
class World:
    """What the events are drawn from, and the stock as it stands after every event."""

    hubs: list[Hub]
    places: list[Place]
    items: list[Item]
    fundraisers: list[Fundraiser]
    coordinators: dict[int, int]  # hub id -> user id
    volunteers: dict[int, list[int]]  # hub id -> user ids
    photos: list[str]
    stock: dict[tuple[int, int], Decimal] = field(default_factory=dict)
    delivered: dict[int, datetime] = field(default_factory=dict)  # place id -> last delivery


@dataclass
class Chunk:
    """One transaction's ledger rows and the domain rows waiting for their indexes."""

    rows: list[bulk.Row] = field(default_factory=list)
    donations: list[tuple[int, Donation]] = field(default_factory=list)
    movements: list[tuple[int, StockMovement]] = field(default_factory=list)
    deliveries: list[tuple[int, Delivery, list, Fundraiser, ProofOfDelivery, str]] = field(
        default_factory=list
    )


class Command(BaseCommand):
    help = "Build a crisis-sized month of data through the bulk ledger path (for benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--entries", type=int, default=FULL_SIZE, help="ledger entries to add")
        for name, (full, _minimum) in SIZES.items():
            parser.add_argument(
                f"--{name}", type=int, help=f"default {full:,}, scaled to --entries"
            )
        parser.add_argument("--append", action="store_true", help="add to a non-empty ledger")
        parser.add_argument("--seed", type=int, default=20220918, help="random seed")
        parser.add_argument(
            "--password", default="", help="password of every seeded user (default: random)"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options) -> None:
        entries = options["entries"]
        sizes = {name: scaled(entries, name, options[name]) for name in SIZES}
        filler = entries - sizes["donations"] - 2 * sizes["deliveries"]
        if entries < 1 or filler < sizes["hubs"]:
            raise CommandError(
                f"--entries {entries:,} is too small for {sizes['donations']:,} donations and "
                f"{sizes['deliveries']:,} deliveries (two entries each) plus one intake a hub."
            )
        if services.tree_size() and not options["append"]:
            raise CommandError(
                f"The ledger already has {services.tree_size():,} entries; pass --append to "
                "add a month to it (it can never be removed)."
            )
        password = options["password"] or secrets.token_urlsafe(12)
        rng = random.Random(options["seed"] + services.tree_size())  # noqa: S311 - data, not keys
        # Public ids stay unique when a second month is appended.
        suffix = f"-{secrets.token_hex(2)}" if services.tree_size() else ""
        started = time.monotonic()
        world = self.build_world(sizes, suffix, password, rng)
        self.stderr.write(
            f"{sizes['hubs']} hubs, {sizes['volunteers']} volunteers, {len(world.places)} "
            f"places: {time.monotonic() - started:.1f} s"
        )
        bar = ProgressBar(entries, enabled=not options["no_progress"])
        now = datetime.now(UTC).replace(microsecond=0)
        month = Month(world, rng, start=now - timedelta(days=30), end=now, entries=entries)
        chunk = Chunk()
        for event in month.events(sizes["donations"], sizes["deliveries"], filler):
            event(chunk)
            if len(chunk.rows) >= CHUNK_ENTRIES:
                self.write(chunk)
                bar.advance(len(chunk.rows))
                chunk = Chunk()
        self.write(chunk)
        bar.advance(len(chunk.rows))
        bar.finish()
        self.finish(world)
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # Autovacuum would get there later; until then the first reads pay for it.
            # (VACUUM cannot run in a transaction, as under a test's.)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE)")
        checkpoint = services.checkpoint_sign()
        elapsed = time.monotonic() - started
        size = services.tree_size()
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {entries:,} entries in {elapsed:.0f} s; the ledger now has {size:,}."
            )
        )
        if checkpoint is not None:
            self.stdout.write(f"Checkpoint signed at size {checkpoint.size:,}.")
        self.stdout.write(
            f"Logins: coordinator-1{suffix}, volunteer-1{suffix} … password: {password}"
        )
        self.stdout.write(f"Verifier key: {signer().verifier_key}")

    def build_world(self, sizes: dict, suffix: str, password: str, rng: random.Random) -> World:
        User = get_user_model()
        hashed = make_password(password)  # once: hashing 500 passwords would take minutes
        with transaction.atomic():
            LedgerHead.objects.get_or_create(pk=1, defaults={"size": 0})
            region, _ = Region.objects.get_or_create(slug="batken", defaults={"name": "Batken"})
            capital, _ = Region.objects.get_or_create(slug="bishkek", defaults={"name": "Bishkek"})
            items = []
            for slug, name, category, unit in ITEMS:
                item, _ = Item.objects.get_or_create(
                    slug=slug, defaults={"name": name, "category": category, "unit": unit}
                )
                items.append(item)
            n_hubs = sizes["hubs"]
            # One group runs every hub and fundraiser, as the Sports Palace volunteers did.
            group = Group.objects.create(
                slug=f"sports-palace{suffix}", name="Sports Palace volunteers", country="KG"
            )
            hubs = Hub.objects.bulk_create(
                Hub(
                    group=group,
                    slug=f"hub-{n}{suffix}",
                    name="Sports Palace" if n == 1 else f"Collection point {n}",
                    kind=Hub.Kind.CENTRAL if n == 1 else Hub.Kind.COLLECTION_POINT,
                    region=capital,
                    address=f"Street {n}, Bishkek",
                    opening_hours="08:00-22:00",
                    accepts=[c for c in Category.values if c != "other"],
                )
                for n in range(1, n_hubs + 1)
            )
            places = Place.objects.bulk_create(
                Place(slug=f"village-{n}{suffix}", name=f"Village {n}", region=region,
                      district="Leilek" if n % 2 else "Batken", population_displaced=100 * n)
                for n in range(1, n_hubs * PLACES_PER_HUB + 1)
            )  # fmt: skip
            users = User.objects.bulk_create(
                [User(username=f"coordinator-{n}{suffix}", password=hashed, is_staff=True)
                 for n in range(1, n_hubs + 1)]
                + [User(username=f"volunteer-{n}{suffix}", password=hashed)
                   for n in range(1, sizes["volunteers"] + 1)]
            )  # fmt: skip
            users = list(User.objects.filter(pk__in=[u.pk for u in users]).order_by("pk"))
            coordinators = {hub.pk: users[n].pk for n, hub in enumerate(hubs)}
            volunteers: dict[int, list[int]] = {hub.pk: [] for hub in hubs}
            for n, user in enumerate(users[n_hubs:]):
                volunteers[hubs[n % n_hubs].pk].append(user.pk)
            Member.objects.bulk_create(
                [Member(group=group, user_id=coordinators[hubs[0].pk], role=Role.ORGANISER)]
                + [Member(group=group, user_id=u, role=Role.COORDINATOR)
                   for u in sorted(set(coordinators.values()))]
            )  # fmt: skip
            Membership.objects.bulk_create(
                [Membership(user_id=coordinators[h.pk], hub=h, role="coordinator") for h in hubs]
                + [Membership(user_id=u, hub_id=h, role="volunteer")
                   for h, ids in volunteers.items() for u in ids]
            )  # fmt: skip
            start = datetime.now(UTC).date() - timedelta(days=30)
            fundraisers = Fundraiser.objects.bulk_create(
                Fundraiser(slug=f"{slug}{suffix}", title=title, currency=currency, group=group,
                           organiser_id=coordinators[hubs[0].pk], region=region,
                           goal_amount=GOALS[currency],
                           starts_on=start, story="Seeded for a benchmark.")
                for slug, title, currency in FUNDRAISERS
            )  # fmt: skip
            for fundraiser in fundraisers:
                fundraiser.hubs.set(hubs)
            self.open_requests(places, hubs, items, rng)
            photos = [
                services.evidence_store(data=jpeg(n), content_type="image/jpeg").sha256
                for n in range(3)
            ]
        for place in places:
            place.region = region  # ledger_ref reads the region's name: no query per entry
        return World(hubs, places, items, fundraisers, coordinators, volunteers, photos)

    def open_requests(self, places: list, hubs: list, items: list, rng: random.Random) -> None:
        """One open request in every third place, so /needs/ and /gaps/ have rows to show."""
        requests = SupplyRequest.objects.bulk_create(
            SupplyRequest(place=place, hub=hubs[n % len(hubs)], urgency=rng.choice([1, 2, 3]),
                          note="Families arrived last night.")
            for n, place in enumerate(places[::3])
        )  # fmt: skip
        SupplyRequestLine.objects.bulk_create(
            SupplyRequestLine(request=request, item=item, quantity=Decimal(rng.randint(10, 500)))
            for request in requests
            for item in rng.sample(items, 2)
        )

    def write(self, chunk: Chunk) -> None:
        if not chunk.rows:
            return
        with transaction.atomic():
            first = bulk.append_chunk(chunk.rows)[0]
            donations = []
            for position, donation in chunk.donations:
                donation.ledger_index = first + position
                donations.append(donation)
            Donation.objects.bulk_create(donations)
            self.add_to_totals(donations)
            movements = []
            for position, movement in chunk.movements:
                movement.ledger_index = first + position
                movements.append(movement)
            StockMovement.objects.bulk_create(movements)
            deliveries = []
            for position, delivery, _lines, _fundraiser, _proof, _photo in chunk.deliveries:
                delivery.ledger_index = first + position
                deliveries.append(delivery)
            Delivery.objects.bulk_create(deliveries)
            through = Delivery.fundraisers.through
            lines, links, proofs = [], [], []
            for _position, delivery, delivery_lines, fundraiser, proof, _photo in chunk.deliveries:
                lines += [DeliveryLine(delivery=delivery, item=i, quantity=q)
                          for i, q in delivery_lines]  # fmt: skip
                links.append(through(delivery_id=delivery.pk, fundraiser_id=fundraiser.pk))
                proof.delivery = delivery
                proofs.append(proof)
            DeliveryLine.objects.bulk_create(lines)
            through.objects.bulk_create(links)
            ProofOfDelivery.objects.bulk_create(proofs)
            ProofPhoto.objects.bulk_create(
                ProofPhoto(proof=proof, evidence_sha256=photo)
                for (*_, proof, photo) in chunk.deliveries
            )

    def add_to_totals(self, donations: list[Donation]) -> None:
        """The chunk's donations in their fundraisers' totals: one UPDATE a fundraiser and
        currency, in the chunk's transaction, as `donation_record` adds one at a time."""
        sums: dict[tuple[Fundraiser, str], list] = {}
        for donation in donations:
            key = (donation.fundraiser, donation.currency)
            figures = sums.setdefault(key, [Decimal(0), Decimal(0), 0])
            figures[0] += donation.amount
            figures[1] += donation.converted_amount
            figures[2] += 1
        for (fundraiser, currency), (raised, converted, count) in sums.items():
            fundraiser_total_add(
                fundraiser=fundraiser, currency=currency, raised=raised,
                raised_converted=converted, donations=count,
            )  # fmt: skip

    def finish(self, world: World) -> None:
        """Stock levels as the simulation left them, and each place's last delivery."""
        with transaction.atomic():
            for (hub_id, item_id), quantity in world.stock.items():
                if not StockLevel.objects.filter(hub_id=hub_id, item_id=item_id).update(
                    quantity=F("quantity") + quantity
                ):
                    StockLevel.objects.create(hub_id=hub_id, item_id=item_id, quantity=quantity)
            for place_id, moment in world.delivered.items():
                Place.objects.filter(pk=place_id).update(last_delivery_at=moment)
        latest = Place.objects.aggregate(latest=Max("last_delivery_at"))["latest"]
        self.stderr.write(f"stock levels written; last delivery at {latest}")


class Month:
    """The events of the month in time order; each adds its ledger rows and domain rows."""

    def __init__(self, world: World, rng: random.Random, *, start, end, entries: int) -> None:
        self.world, self.rng = world, rng
        self.start, self.step = start, (end - start) / entries
        self.index = 0  # entries produced so far
        self.delivery_number = 0

    def events(self, donations: int, deliveries: int, intakes: int):
        # Every hub receives goods first, so the first deliveries have stock to take.
        for hub in self.world.hubs:
            yield lambda chunk, hub=hub: self.intake(chunk, hub, lines=len(self.world.items))
        kinds = ["donation"] * donations + ["delivery"] * deliveries
        kinds += ["intake"] * (intakes - len(self.world.hubs))
        self.rng.shuffle(kinds)
        for kind in kinds:
            yield getattr(self, kind)

    def moment(self) -> datetime:
        moment = self.start + self.step * self.index
        self.index += 1
        return moment.replace(microsecond=0)

    def donation(self, chunk: Chunk) -> None:
        rng = self.rng
        fundraiser = rng.choice(self.world.fundraisers)
        currency = rng.choice(DONATION_CURRENCIES)
        whole = (
            rng.choice((500, 1000, 2000, 5000, 10000))
            if rng.random() < 0.6
            else rng.randint(100, 50000)
        )
        if currency == "USD":
            whole = max(1, whole // 400)
        amount = Decimal(whole) + (Decimal(rng.randint(1, 99)) / 100 if rng.random() < 0.2 else 0)
        moment = self.moment()
        received = moment - timedelta(minutes=rng.randint(0, 180))
        value = rate(currency, fundraiser.currency)
        converted = convert(amount, value, fundraiser.currency)
        payload = {
            "fundraiser": fundraiser.ledger_ref(),
            "money": {"amount": format_amount(amount, currency), "currency": currency},
            "converted": {"amount": format_amount(converted, fundraiser.currency),
                          "currency": fundraiser.currency},
            "rate": f"{value.normalize():f}",
            "rate_source": "same currency" if currency == fundraiser.currency else "seed_scale",
            "channel": rng.choice(CHANNELS),
            "received_at": services.utc_timestamp(received),
        }  # fmt: skip
        chunk.donations.append((len(chunk.rows), Donation(
            fundraiser=fundraiser, amount=amount, currency=currency, rate=value,
            rate_source=payload["rate_source"], converted_amount=converted,
            received_at=received, channel=payload["channel"],
        )))  # fmt: skip
        chunk.rows.append(("donation", payload, moment))

    def intake(self, chunk: Chunk, hub: Hub | None = None, lines: int = 0) -> None:
        rng = self.rng
        hub = hub or rng.choice(self.world.hubs)
        items = rng.sample(self.world.items, lines or rng.randint(1, 3))
        taken = sorted(((item, Decimal(rng.randint(20, 500))) for item in items),
                       key=lambda line: line[0].pk)  # fmt: skip
        moment = self.moment()
        for item, quantity in taken:
            key = (hub.pk, item.pk)
            self.world.stock[key] = self.world.stock.get(key, Decimal(0)) + quantity
            chunk.movements.append((len(chunk.rows), StockMovement(
                hub=hub, item=item, kind=StockMovement.Kind.INTAKE, quantity=quantity,
                created_by_id=self.world.coordinators[hub.pk],
            )))  # fmt: skip
        chunk.rows.append(("intake", {
            "hub": hub.ledger_ref(),
            "items": [item.ledger_line(q) for item, q in taken],
            "received_at": services.utc_timestamp(moment),
        }, moment))  # fmt: skip

    def delivery(self, chunk: Chunk) -> None:
        rng, world = self.rng, self.world
        hub = rng.choice(world.hubs)
        in_stock = [i for i in world.items if world.stock.get((hub.pk, i.pk), 0) > 0]
        if not in_stock:  # never happens at seeded proportions; keep the count of entries
            self.intake(chunk, hub)
            self.intake(chunk, hub)
            return
        lines = []
        for item in sorted(rng.sample(in_stock, min(len(in_stock), rng.randint(1, 3))),
                           key=lambda i: i.pk):  # fmt: skip
            quantity = min(Decimal(rng.randint(5, 60)), world.stock[(hub.pk, item.pk)])
            world.stock[(hub.pk, item.pk)] -= quantity  # stays >= 0: never more than is there
            lines.append((item, quantity))
        self.delivery_number += 1
        slug = f"d{self.delivery_number:06d}-{secrets.token_hex(3)}"
        place = world.places[(world.hubs.index(hub) * PLACES_PER_HUB + rng.randrange(6)) %
                             len(world.places)]  # fmt: skip
        fundraiser = rng.choice(world.fundraisers)
        volunteer = rng.choice(world.volunteers[hub.pk] or [world.coordinators[hub.pk]])
        coordinator = world.coordinators[hub.pk]
        items = [item.ledger_line(q) for item, q in lines]
        dispatched = self.moment()
        for item, quantity in lines:
            chunk.movements.append((len(chunk.rows), StockMovement(
                hub=hub, item=item, kind=StockMovement.Kind.DISPATCH, quantity=-quantity,
                reference=slug, created_by_id=volunteer,
            )))  # fmt: skip
        chunk.rows.append(("dispatch", {
            "hub": hub.ledger_ref(), "place": place.ledger_ref(), "delivery": slug,
            "items": items, "fundraisers": [fundraiser.ledger_ref()],
        }, dispatched))  # fmt: skip
        delivered = self.moment()
        people = rng.randint(5, 300)
        photo = world.photos[self.delivery_number % len(world.photos)]
        delivery = Delivery(
            slug=slug, hub=hub, place=place, volunteer_id=volunteer, status="verified",
            dispatched_at=dispatched, delivered_at=delivered, verified_at=delivered,
            verified_by_id=coordinator, created_by_id=coordinator,
        )  # fmt: skip
        proof = ProofOfDelivery(
            people=people, households=max(1, people // 4), delivered_at=delivered,
            review=ProofOfDelivery.Review.APPROVED, created_by_id=volunteer,
        )  # fmt: skip
        chunk.deliveries.append((len(chunk.rows), delivery, lines, fundraiser, proof, photo))
        chunk.rows.append(("delivery", {
            "delivery": slug, "hub": hub.ledger_ref(), "place": place.ledger_ref(),
            "items": items, "people": people, "households": proof.households,
            "delivered_at": services.utc_timestamp(delivered), "confirmed_by_recipient": False,
            "fundraisers": [fundraiser.ledger_ref()], "evidence": [photo],
        }, delivered))  # fmt: skip
        world.delivered[place.pk] = delivered


class ProgressBar:
    """`[#####-----]  48%  480,000 / 1,000,000 entries  9,812/s  ETA 54 s`, in place on stderr."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled
        self.started = time.monotonic()

    def advance(self, count: int) -> None:
        self.done += count
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        share = min(self.done / self.total, 1)
        eta = (self.total - self.done) / rate if rate else 0
        bar = "#" * round(30 * share) + "-" * (30 - round(30 * share))
        sys.stderr.write(
            f"\r[{bar}] {share:4.0%}  {self.done:,} / {self.total:,} entries  "
            f"{rate:,.0f}/s  ETA {eta:.0f} s "
        )
        sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def jpeg(n: int) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (40 + 60 * n, 120, 200 - 50 * n)).save(out, "JPEG", quality=80)
    return out.getvalue()
