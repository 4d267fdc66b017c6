"""The demo scenario: the Sports Palace in Bishkek, collection points, villages in Batken and Osh.

Built through the same services the app uses, so the demo obeys every rule. Running it twice
changes nothing: each part is skipped when it is already there.
"""

import io
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import segno
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from aidhub import clock
from aidhub.uploads import CleanFile, clean_image
from deliveries import services as delivery_services
from donations import services as donation_services
from donations.models import ExchangeRate, Fundraiser
from groups import services as group_services
from groups.models import Group, Member
from hubs import services as hub_services
from hubs.models import Hub, Item, Membership, Place, Region, StockMovement
from ledger import services as ledger
from notifications import services as notification_services
from notifications.models import Channel, Scope

from . import demo_images

DEMO_PASSWORD = "aidhub-demo"  # noqa: S105 - printed for the demo; seeding refuses production


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    first_name: str
    is_staff: bool = False


DEMO_USERS = [
    DemoUser("coordinator", "coordinator", "Aigerim", is_staff=True),
    DemoUser("volunteer", "volunteer", "Bakyt"),
    DemoUser("volunteer2", "volunteer", "Nurlan"),
    DemoUser("organizer", "fundraiser organizer", "Dana"),
    DemoUser("almaty-treasurer", "fundraiser treasurer", "Saule"),
    DemoUser("batken-treasurer", "fundraiser treasurer", "Timur"),
]

# Two groups tell the story: the Almaty initiative raises the money, the Batken group runs
# the hubs and the deliveries. slug, name, country, description, organiser, {username: roles}
GROUPS = [
    (
        "almaty-initiative", "Almaty initiative", "KZ",
        "Journalists and friends in Almaty raising money for evacuees across the border.",
        "organizer", {"almaty-treasurer": ["treasurer"]},
    ),
    (
        "batken-volunteers", "Batken volunteers", "KG",
        "Volunteers who run the collection points and drive aid to villages near Isfana.",
        "coordinator", {"volunteer": ["volunteer"], "volunteer2": ["volunteer"],
                        "batken-treasurer": ["treasurer"]},
    ),
]  # fmt: skip
HUBS_GROUP = "batken-volunteers"
FUNDRAISER_GROUP = "almaty-initiative"

REGIONS = [
    ("batken", "Batken"),
    ("osh", "Osh"),
    ("jalal-abad", "Jalal-Abad"),
    ("chui", "Chüy"),
    ("bishkek", "Bishkek city"),
]

# slug, English, Russian, Kyrgyz, Kazakh, Uzbek, Tajik, category, unit
ITEMS = [
    ("flour", "Flour", "Мука", "Ун", "Ұн", "Un", "Орд", "food", "kg"),
    ("rice", "Rice", "Рис", "Күрүч", "Күріш", "Guruch", "Биринҷ", "food", "kg"),
    (
        "water",
        "Drinking water",
        "Питьевая вода",
        "Ичүүчү суу",
        "Ауыз су",
        "Ichimlik suvi",
        "Оби нӯшокӣ",
        "water",
        "litre",
    ),
    (
        "nappies",
        "Nappies",
        "Подгузники",
        "Жалаяктар",
        "Жөргектер",
        "Tagliklar",
        "Памперсҳо",
        "baby",
        "pack",
    ),
    (
        "wet-wipes",
        "Wet wipes",
        "Влажные салфетки",
        "Нымдуу майлыктар",
        "Ылғал сүлгілер",
        "Nam salfetkalar",
        "Салфеткаҳои намнок",
        "hygiene",
        "pack",
    ),
    ("soap", "Soap", "Мыло", "Самын", "Сабын", "Sovun", "Собун", "hygiene", "piece"),
    (
        "sleeping-bag",
        "Sleeping bag",
        "Спальный мешок",
        "Уктоочу баштык",
        "Ұйықтайтын қап",
        "Uyqu xaltasi",
        "Халтаи хоб",
        "shelter",
        "piece",
    ),
    ("blanket", "Blanket", "Одеяло", "Жууркан", "Көрпе", "Adyol", "Кӯрпа", "shelter", "piece"),
    (
        "warm-clothes",
        "Warm clothes (box)",
        "Тёплая одежда (коробка)",
        "Жылуу кийим (куту)",
        "Жылы киім (қорап)",
        "Issiq kiyim (quti)",
        "Либоси гарм (қуттӣ)",
        "clothing",
        "box",
    ),
    (
        "first-aid-kit",
        "First-aid kit",
        "Аптечка",
        "Дары кутусу",
        "Дәрі қобдишасы",
        "Dori qutisi",
        "Қуттии доруворӣ",
        "medical",
        "piece",
    ),
    (
        "insulin",
        "Insulin (pack)",
        "Инсулин (упаковка)",
        "Инсулин (таңгак)",
        "Инсулин (қорап)",
        "Insulin (qadoq)",
        "Инсулин (баста)",
        "medical",
        "pack",
    ),
]

HUBS = [
    (
        "sports-palace",
        "Sports Palace",
        "central",
        "bishkek",
        "Togolok Moldo St 40, Bishkek",
        "42.8765",
        "74.5918",
        "Every day, 08:00–22:00",
        "@sportpalace_aid",
        ["food", "water", "hygiene", "baby", "shelter", "clothing"],
    ),
    (
        "ala-too-tent",
        "Ala-Too Square tent",
        "collection_point",
        "bishkek",
        "Ala-Too Square, Bishkek",
        "42.8766",
        "74.6036",
        "09:00–20:00",
        "",
        ["food", "water", "hygiene"],
    ),
    (
        "asanbay-centre",
        "Asanbay community centre",
        "collection_point",
        "bishkek",
        "Asanbay 12, Bishkek",
        "42.8172",
        "74.6270",
        "10:00–19:00",
        "",
        ["clothing", "baby"],
    ),
    (
        "dordoi-point",
        "Dordoi volunteer point",
        "collection_point",
        "bishkek",
        "Dordoi market, gate 3, Bishkek",
        "42.9390",
        "74.6230",
        "07:00–18:00",
        "",
        ["food", "shelter"],
    ),
]

PLACES = [
    ("isfana", "Isfana", "town", "batken", "Leilek", 4200),
    ("ak-sai", "Ak-Sai", "village", "batken", "Batken", 1300),
    ("kara-bak", "Kara-Bak", "village", "batken", "Batken", 900),
    ("samarkandyk", "Samarkandyk", "village", "batken", "Batken", 2100),
    ("dostuk", "Dostuk", "village", "batken", "Batken", 650),
    ("kulundu", "Kulundu", "village", "batken", "Leilek", 1800),
    (
        "batken-school-3",
        "Batken school no. 3 (evacuation centre)",
        "evacuation_centre",
        "batken",
        "Batken",
        700,
    ),
    ("kadamjay", "Kadamjay", "town", "batken", "Kadamjay", None),
    ("nookat", "Nookat", "town", "osh", "Nookat", None),
    ("osh-hospital", "Osh regional hospital", "hospital", "osh", "Osh", None),
]

# Translations of the hubs' and places' public texts: (ru, ky, kk, uz, tg), as a reader of
# each language writes them (Бішкек in Kazakh, Latin script in Uzbek). English is above.
TRANSLATED_LANGUAGES = ("ru", "ky", "kk", "uz", "tg")
HUB_TRANSLATIONS = {
    "sports-palace": {
        "name": ("Дворец спорта", "Спорт сарайы", "Спорт сарайы", "Sport saroyi", "Қасри варзиш"),
        "address": (
            "ул. Тоголок Молдо, 40, Бишкек",
            "Тоголок Молдо көчөсү, 40, Бишкек",
            "Тоголок Молдо көшесі, 40, Бішкек",
            "Togʻoloq Moldo koʻchasi, 40, Bishkek",
            "кӯчаи Тоголок Молдо, 40, Бишкек",
        ),
        "opening_hours": (
            "Ежедневно, 08:00–22:00",
            "Күн сайын, 08:00–22:00",
            "Күн сайын, 08:00–22:00",
            "Har kuni, 08:00–22:00",
            "Ҳар рӯз, 08:00–22:00",
        ),
    },
    "ala-too-tent": {
        "name": (
            "Палатка на площади Ала-Тоо",
            "Ала-Тоо аянтындагы чатыр",
            "Ала-Тоо алаңындағы шатыр",
            "Ala-Too maydonidagi chodir",
            "Хаймаи майдони Ала-Тоо",
        ),
        "address": (
            "площадь Ала-Тоо, Бишкек",
            "Ала-Тоо аянты, Бишкек",
            "Ала-Тоо алаңы, Бішкек",
            "Ala-Too maydoni, Bishkek",
            "майдони Ала-Тоо, Бишкек",
        ),
    },
    "asanbay-centre": {
        "name": (
            "Общественный центр «Асанбай»",
            "«Асанбай» коомдук борбору",
            "«Асанбай» қоғамдық орталығы",
            "«Asanbay» jamoat markazi",
            "Маркази ҷамъиятии «Асанбай»",
        ),
        "address": (
            "Асанбай, 12, Бишкек",
            "Асанбай, 12, Бишкек",
            "Асанбай, 12, Бішкек",
            "Asanbay, 12, Bishkek",
            "Асанбай, 12, Бишкек",
        ),
    },
    "dordoi-point": {
        "name": (
            "Волонтёрский пункт «Дордой»",
            "«Дордой» ыктыярчылар пункту",
            "«Дордой» еріктілер пункті",
            "«Dordoy» koʻngillilar punkti",
            "Нуқтаи ихтиёриёни «Дордой»",
        ),
        "address": (
            "рынок «Дордой», ворота 3, Бишкек",
            "«Дордой» базары, 3-дарбаза, Бишкек",
            "«Дордой» базары, 3-қақпа, Бішкек",
            "«Dordoy» bozori, 3-darvoza, Bishkek",
            "бозори «Дордой», дарвозаи 3, Бишкек",
        ),
    },
}
PLACE_NAMES = {
    "isfana": ("Исфана", "Исфана", "Исфана", "Isfana", "Исфана"),
    "ak-sai": ("Ак-Сай", "Ак-Сай", "Ақ-Сай", "Oq-Say", "Ақ-Сай"),
    "kara-bak": ("Кара-Бак", "Кара-Бак", "Қара-Бақ", "Qora-Bak", "Қара-Бак"),
    "samarkandyk": ("Самаркандык", "Самаркандык", "Самарқандық", "Samarqandiq", "Самарқандик"),
    "dostuk": ("Достук", "Достук", "Достық", "Doʻstuk", "Достук"),
    "kulundu": ("Кулунду", "Кулунду", "Құлынды", "Qulundu", "Кулунду"),
    "batken-school-3": (
        "Баткен, школа № 3 (пункт эвакуации)",
        "Баткен, № 3 мектеп (эвакуация борбору)",
        "Баткен, № 3 мектеп (эвакуация орталығы)",
        "Botken, 3-maktab (evakuatsiya markazi)",
        "Баткен, мактаби № 3 (маркази эвакуатсия)",
    ),
    "kadamjay": ("Кадамжай", "Кадамжай", "Қадамжай", "Qadamjoy", "Қадамҷой"),
    "nookat": ("Ноокат", "Ноокат", "Ноокат", "Noʻkat", "Ноокат"),
    "osh-hospital": (
        "Ошская областная больница",
        "Ош облустук ооруканасы",
        "Ош облыстық ауруханасы",
        "Oʻsh viloyat kasalxonasi",
        "Беморхонаи вилоятии Ош",
    ),
}


def translations(field: str, texts: tuple[str, ...]) -> dict[str, str]:
    """{"name_ru": …, "name_ky": …} for a model's defaults."""
    return {
        f"{field}_{language}": text
        for language, text in zip(TRANSLATED_LANGUAGES, texts, strict=True)
    }


FUNDRAISER = {"id": "almaty-for-batken-2022", "title": "Almaty for Batken: aid for evacuees"}


@transaction.atomic
def seed() -> list[DemoUser]:
    """Create (or leave as they are) the demo users, hubs, places, stock, requests and the
    ledger entries; sign a checkpoint. Returns the users for printing."""
    seed_users()
    seed_groups()
    seed_catalogue()
    seed_subscriptions()
    if not StockMovement.objects.exists():
        seed_story()
    ledger.checkpoint_sign()
    return DEMO_USERS


# The demo's names for its accounts → the usernames they are seeded under. Empty in real use;
# a test that must tell a leaked username from an ordinary word seeds distinctive ones.
SEEDED_USERNAMES: dict[str, str] = {}


def demo_account(name: str):
    """The account DEMO_USERS calls `name`."""
    return get_user_model().objects.get(username=SEEDED_USERNAMES.get(name, name))


def seed_users() -> None:
    user_model = get_user_model()
    for demo in DEMO_USERS:
        username = SEEDED_USERNAMES.get(demo.username, demo.username)
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={
                "first_name": demo.first_name,
                "is_staff": demo.is_staff,
                "email": f"{username}@aidhub.example",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])


def seed_groups() -> None:
    for slug, name, country, description, organiser, roles in GROUPS:
        group = Group.objects.filter(slug=slug).first() or group_services.group_create(
            name=name, slug=slug, country=country, description=description,
            first_organiser=demo_account(organiser), by=None,
        )  # fmt: skip
        for username, names in roles.items():
            for role in names:
                Member.objects.get_or_create(group=group, user=demo_account(username), role=role)


def seed_subscriptions() -> None:
    """What the demo users follow: in development the console shows the e-mails it causes."""
    follows = [
        ("coordinator", Scope.REGION, "batken"),
        ("volunteer", Scope.URGENCY, "2"),
        ("volunteer2", Scope.HUB, "sports-palace"),
        ("organizer", Scope.FUNDRAISER, FUNDRAISER["id"]),
    ]
    for username, scope, ref in follows:
        user = demo_account(username)
        notification_services.subscription_create(
            channel=Channel.EMAIL,
            address=user.email,
            scope=scope,
            ref=ref,
            language="en",
            user=user,
        )


def seed_catalogue() -> None:
    for slug, name in REGIONS:
        Region.objects.get_or_create(slug=slug, defaults={"name": name})
    for slug, en, ru, ky, kk, uz, tg, category, unit in ITEMS:
        Item.objects.get_or_create(
            slug=slug,
            defaults={
                "name": en,
                "name_ru": ru,
                "name_ky": ky,
                "name_kk": kk,
                "name_uz": uz,
                "name_tg": tg,
                "category": category,
                "unit": unit,
            },
        )
    for slug, name, kind, region, address, lat, lon, hours, contact, accepts in HUBS:
        Hub.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "kind": kind,
                "region": Region.objects.get(slug=region),
                "group": Group.objects.get(slug=HUBS_GROUP),
                "address": address,
                "latitude": Decimal(lat),
                "longitude": Decimal(lon),
                "opening_hours": hours,
                "public_contact": contact,
                "accepts": accepts,
            }
            | {
                key: text
                for field, texts in HUB_TRANSLATIONS.get(slug, {}).items()
                for key, text in translations(field, texts).items()
            },
        )
    for slug, name, kind, region, district, displaced in PLACES:
        Place.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "kind": kind,
                "region": Region.objects.get(slug=region),
                "district": district,
                "population_displaced": displaced,
            }
            | translations("name", PLACE_NAMES[slug]),
        )
    palace = Hub.objects.get(slug="sports-palace")
    Membership.objects.get_or_create(
        user=demo_account("coordinator"), hub=palace, role=Membership.Role.COORDINATOR
    )
    Membership.objects.get_or_create(
        user=demo_account("coordinator"),
        hub=Hub.objects.get(slug="ala-too-tent"),
        role=Membership.Role.COORDINATOR,
    )
    for username in ("volunteer", "volunteer2"):
        Membership.objects.get_or_create(
            user=demo_account(username), hub=palace, role=Membership.Role.VOLUNTEER
        )


def _items(*pairs: tuple[str, str]) -> list[tuple[Item, Decimal]]:
    return [(Item.objects.get(slug=slug), Decimal(quantity)) for slug, quantity in pairs]


def _money(amount: str, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


def seed_story() -> None:
    """September 2022 as AidHub would have recorded it."""
    coordinator = demo_account("coordinator")
    hubs = {hub.slug: hub for hub in Hub.objects.all()}
    places = {place.slug: place for place in Place.objects.all()}
    palace = hubs["sports-palace"]

    fundraiser = seed_fundraiser()
    # The story happened six hours ago: that can be yesterday locally, so the official rates
    # are seeded for every local day from then to today.
    at = timezone.now() - timedelta(hours=6)
    day = clock.local_day(at)
    while day <= clock.local_day():
        for code, value in DEMO_RATES.items():
            ExchangeRate.objects.get_or_create(
                date=day,
                base=code,
                quote="KGS",
                source=ExchangeRate.Source.NBKR,
                defaults={"rate": Decimal(value)},
            )
        day += timedelta(days=1)
    organiser = demo_account("organizer")
    seed_payment_methods(fundraiser, organiser)
    for amount, currency, channel, name, contact, manual in [
        ("2500000.00", "KZT", "card", "", "", None),
        ("150000.00", "KGS", "bank_transfer", "", "", None),
        ("1000.00", "USD", "card", "Friends in Berlin", "friends@example.org", None),
        ("500.00", "GBP", "e_wallet", "", "", Decimal("620.50")),
    ]:
        donation_services.donation_record(
            fundraiser=fundraiser,
            amount=amount,
            currency=currency,
            received_at=at,
            channel=channel,
            public_name=name,
            donor_contact=contact,
            manual_rate=manual,
            by=organiser,
        )

    # Goods in kind and goods bought, into the Sports Palace's stock.
    donation_services.gift_in_kind_record(
        hub=palace,
        lines=_items(("sleeping-bag", "120")),
        by=coordinator,
        public_name="Garment workshop, Shymkent",
    )
    donation_services.gift_in_kind_record(
        hub=palace,
        lines=_items(("nappies", "60"), ("wet-wipes", "80"), ("soap", "200")),
        by=coordinator,
    )
    receipts = [
        (
            "Dordoi market wholesale",
            "163500.00",
            ["Flour 500 kg", "Drinking water 600 l", "Rice 300 kg"],
            (("flour", "500"), ("water", "600"), ("rice", "300")),
        ),
        (
            "Neman pharmacy",
            "42000.00",
            ["First-aid kits 20", "Insulin 15 packs"],
            (("first-aid-kit", "20"), ("insulin", "15")),
        ),
        ("Beta Stores", "36000.00", ["Warm clothes 30 boxes"], (("warm-clothes", "30"),)),
    ]
    # Money out needs two people: the organiser records each purchase, the treasurer approves it.
    treasurer = demo_account("almaty-treasurer")
    for vendor, amount, text, lines in receipts:
        proposal = donation_services.expense_propose(
            fundraiser=fundraiser,
            vendor=vendor,
            amount=amount,
            currency="KGS",
            paid_at=at,
            receipt=CleanFile(demo_images.receipt(text, f"{amount} KGS"), "image/jpeg"),
            lines=_items(*lines),
            hub=palace,
            by=organiser,
        )
        expense = donation_services.expense_approve(proposal=proposal, by=treasurer)
        # The Sports Palace is the Batken volunteers' hub: its coordinator accepts the goods.
        donation_services.goods_accept(offer=expense.goods_offer, by=coordinator)
    seed_transfer(fundraiser, organiser, treasurer)
    hub_services.hub_receive_goods(
        hub=hubs["ala-too-tent"],
        lines=_items(("water", "200"), ("blanket", "40")),
        by=coordinator,
    )
    hub_services.stock_transfer(
        from_hub=hubs["ala-too-tent"],
        to_hub=palace,
        lines=_items(("blanket", "30")),
        by=coordinator,
    )

    # What the villages asked for.
    requests = [
        ("isfana", 1, (("flour", "300"), ("water", "400"), ("nappies", "30"))),
        ("ak-sai", 1, (("insulin", "10"), ("first-aid-kit", "5"))),
        ("kara-bak", 2, (("sleeping-bag", "60"), ("blanket", "60"))),
        ("samarkandyk", 2, (("flour", "200"), ("rice", "100"))),
        ("batken-school-3", 1, (("nappies", "40"), ("wet-wipes", "40"), ("soap", "100"))),
        ("kulundu", 3, (("warm-clothes", "20"),)),
        ("nookat", 3, (("water", "300"),)),
    ]
    filed = {}
    for place, urgency, lines in requests:
        filed[place] = hub_services.request_create(
            hub=palace,
            place=places[place],
            lines=_items(*lines),
            by=coordinator,
            urgency=urgency,
            note="",
            requester_contact="village head, by phone",
        )

    seed_deliveries(palace, places, filed, fundraiser)
    seed_direct_delivery(places, filed)

    # A mistake and its correction: the same cash gift was typed in twice.
    twice = donation_services.donation_record(
        fundraiser=fundraiser,
        amount="50000.00",
        currency="KZT",
        received_at=at,
        channel="cash",
        by=organiser,
    )
    donation_services.correction_record(
        row=twice, reason="The same cash gift was recorded twice.", by=organiser
    )


# Made-up numbers: the demo must never show a real person's card or phone.
DEMO_PAYMENT_METHODS = [
    # The QR code names the phone, as Kaspi's do: AidHub refuses one that pays other details.
    ("e_wallet", "Kaspi", "+7 700 000 00 01", "KZT", "Dana O.", "https://kaspi.kz/77000000001"),
    ("e_wallet", "MBank", "+996 700 000 001", "KGS", "Dana O.", ""),
    ("cash_at_hub", "Sports Palace desk", "Sports Palace, Bishkek, 09:00–21:00", "KGS", "", ""),
]


def seed_payment_methods(fundraiser: Fundraiser, organiser) -> None:
    """The fundraiser's ways to pay, each proposed by the organiser and approved by the
    treasurer: a `payment_details` ledger entry."""
    for kind, label, details, currency, recipient, qr_text in DEMO_PAYMENT_METHODS:
        qr = None
        if qr_text:
            png = io.BytesIO()
            segno.make(qr_text, error="m").save(png, kind="png", scale=6, border=2)
            qr = clean_image(png.getvalue())
        proposal = donation_services.payment_method_add(
            fundraiser=fundraiser, by=organiser, kind=kind, label=label, details=details,
            currency=currency, recipient_name=recipient, qr=qr,
        )  # fmt: skip
        donation_services.payment_proposal_approve(
            proposal=proposal, by=demo_account("almaty-treasurer")
        )


def seed_deliveries(palace, places, filed, fundraiser) -> None:
    """Deliveries from the Sports Palace in every state, as a volunteer's phone would make them."""
    coordinator = demo_account("coordinator")
    bakyt, nurlan = demo_account("volunteer"), demo_account("volunteer2")

    def plan(place, lines, request=None, note=""):
        return delivery_services.delivery_plan(
            hub=palace,
            place=places[place],
            lines=_items(*lines),
            by=coordinator,
            requests=[filed[request]] if request else [],
            fundraisers=[fundraiser],
            vehicle_note=note,
        )

    def photos(*seeds):
        return [CleanFile(demo_images.delivery_photo(seed), "image/jpeg") for seed in seeds]

    # Isfana: delivered, confirmed by the village head, verified and published.
    isfana = plan(
        "isfana",
        (("flour", "300"), ("water", "400"), ("nappies", "30"), ("sleeping-bag", "50")),
        "isfana",
        "white Porter van",
    )
    delivery_services.delivery_claim(delivery=isfana, volunteer=bakyt)
    delivery_services.delivery_dispatch(delivery=isfana, volunteer=bakyt)
    handover = delivery_services.handover_code_issue(delivery=isfana, volunteer=bakyt)
    delivery_services.handover_confirm(delivery=isfana, code=handover.code, role="village head")
    delivery_services.delivery_report(
        delivery=isfana,
        volunteer=bakyt,
        people=340,
        households=85,
        photos=photos(1, 2),
        note="Unloaded at the school yard.",
    )
    delivery_services.delivery_verify(delivery=isfana, coordinator=coordinator)

    # Kara-Bak: reported with photos, waiting for a coordinator.
    kara_bak = plan("kara-bak", (("sleeping-bag", "60"), ("blanket", "30")), "kara-bak")
    delivery_services.delivery_claim(delivery=kara_bak, volunteer=nurlan)
    delivery_services.delivery_dispatch(delivery=kara_bak, volunteer=nurlan)
    delivery_services.delivery_report(
        delivery=kara_bak, volunteer=nurlan, people=120, photos=photos(3)
    )

    # Samarkandyk: on the way. Batken school: claimed. Ak-Sai: planned, free to take.
    samarkandyk = plan("samarkandyk", (("flour", "200"), ("rice", "100")), "samarkandyk")
    delivery_services.delivery_claim(delivery=samarkandyk, volunteer=bakyt)
    delivery_services.delivery_dispatch(delivery=samarkandyk, volunteer=bakyt)
    school = plan(
        "batken-school-3",
        (("nappies", "30"), ("wet-wipes", "40"), ("soap", "100")),
        "batken-school-3",
    )
    delivery_services.delivery_claim(delivery=school, volunteer=nurlan)
    plan("ak-sai", (("insulin", "10"), ("first-aid-kit", "5")), "ak-sai")

    # Kulundu: the pass was closed by snow; the car came back and the goods went back in stock.
    kulundu = plan("kulundu", (("warm-clothes", "20"),), "kulundu")
    delivery_services.delivery_claim(delivery=kulundu, volunteer=nurlan)
    delivery_services.delivery_dispatch(delivery=kulundu, volunteer=nurlan)
    delivery_services.delivery_fail(
        delivery=kulundu, by=nurlan, returned=True, reason="The pass was closed by snow."
    )


# The demo fundraiser's page in Russian, Kyrgyz and Kazakh; Uzbek and Tajik readers see the
# English text (the ledger always signs the English title).
FUNDRAISER_TRANSLATIONS = {
    "title_ru": "Алматы — Баткену: помощь эвакуированным",
    "title_ky": "Алматы Баткенге: көчүрүлгөндөргө жардам",
    "title_kk": "Алматы Баткенге: көшірілгендерге көмек",
    "story_ru": (
        "Бои на границе за два дня выгнали из домов десятки тысяч людей. До сёл под Исфаной "
        "официальная помощь не дошла. Мы закупаем продукты, одежду и лекарства в Бишкеке и сами "
        "везём их туда. Каждый тенге — в публичном реестре, с чеками и фотографиями доставок."
    ),
    "story_ky": (
        "Чек арадагы согуш эки күндө он миңдеген адамды үйлөрүнөн айдап чыкты. Исфананын "
        "жанындагы айылдарга расмий жардам жеткен жок. Биз Бишкектен азык-түлүк, кийим жана "
        "дары-дармек сатып алып, өзүбүз алып барабыз. Ар бир теңге чектери жана жеткирүү "
        "сүрөттөрү менен ачык реестрде."
    ),
    "story_kk": (
        "Шекарадағы соғыс екі күнде он мыңдаған адамды үйінен айырды. Исфана маңындағы "
        "ауылдарға ресми көмек жетпеді. Біз Бішкектен азық-түлік, киім және дәрі-дәрмек сатып "
        "алып, өзіміз апарамыз. Әр теңге түбіртектері мен жеткізу суреттерімен ашық тізілімде."
    ),
}

BATKEN_FUNDRAISER = {"id": "isfana-villages-2022", "title": "Villages near Isfana"}


def seed_transfer(fundraiser: Fundraiser, organiser, treasurer) -> None:
    """Money passed across the border: the Almaty organiser proposes a transfer to the Batken
    group's fundraiser in som, the Almaty treasurer approves it, the Batken group's organiser
    accepts it. Only then is it in the ledger (`money_transfer`) and in both books."""
    batken, _created = Fundraiser.objects.get_or_create(
        slug=BATKEN_FUNDRAISER["id"],
        defaults={
            "title": BATKEN_FUNDRAISER["title"],
            "title_en": BATKEN_FUNDRAISER["title"],
            "story": "What the Batken volunteers buy in Batken and drive to the villages.",
            "organiser": demo_account("coordinator"),
            "group": Group.objects.get(slug=HUBS_GROUP),
            "region": Region.objects.get(slug="batken"),
            "goal_amount": Decimal("500000"),
            "currency": "KGS",
            "starts_on": clock.local_day() - timedelta(days=2),
        },
    )
    transfer = donation_services.transfer_propose(
        fundraiser=fundraiser, to_fundraiser=batken, amount="1500000.00", by=organiser
    )
    donation_services.transfer_approve(transfer=transfer, by=treasurer)
    donation_services.transfer_accept(transfer=transfer, by=demo_account("coordinator"))


def seed_direct_delivery(places, filed) -> None:
    """The Batken group's own purchase, with the money the Almaty initiative passed to it, goes
    straight to Kulundu near Isfana, no hub between (the pass had closed on the Sports Palace's
    car): the group's organiser buys at the market in Batken and its treasurer approves the
    receipt; Bakyt drives, the village head confirms with the code, and the organiser, not the
    driver, checks the photos and publishes it. Its ledger entry names the expense entry."""
    organiser, driver = demo_account("coordinator"), demo_account("volunteer")
    batken = Fundraiser.objects.get(slug=BATKEN_FUNDRAISER["id"])
    lines = (("warm-clothes", "20"), ("flour", "100"))
    proposal = donation_services.expense_propose(
        fundraiser=batken, vendor="Batken central market", amount="54000.00", currency="KGS",
        paid_at=timezone.now() - timedelta(hours=3), by=organiser, lines=_items(*lines),
        receipt=CleanFile(demo_images.receipt(["Warm clothes 20 boxes", "Flour 100 kg"],
                                              "54000.00 KGS"), "image/jpeg"),
    )  # fmt: skip
    expense = donation_services.expense_approve(
        proposal=proposal, by=demo_account("batken-treasurer")
    )
    delivery = delivery_services.delivery_plan_from_expense(
        expense=expense, place=places["kulundu"], by=organiser, volunteer=driver,
        requests=[filed["kulundu"]], vehicle_note="the organiser's own car",
    )  # fmt: skip
    delivery_services.delivery_dispatch(delivery=delivery, volunteer=driver)
    handover = delivery_services.handover_code_issue(delivery=delivery, volunteer=driver)
    delivery_services.handover_confirm(delivery=delivery, code=handover.code, role="village head")
    delivery_services.delivery_report(
        delivery=delivery, volunteer=driver, people=180, households=45,
        photos=[CleanFile(demo_images.delivery_photo(seed), "image/jpeg") for seed in (4, 5)],
        note="Handed out at the village club.",
    )  # fmt: skip
    delivery_services.delivery_verify(delivery=delivery, coordinator=organiser)


DEMO_RATES = {"USD": "87.45", "EUR": "101.20", "GBP": "115.30", "KZT": "0.1745", "RUB": "1.10"}


def seed_fundraiser() -> Fundraiser:
    fundraiser, _created = Fundraiser.objects.get_or_create(
        slug=FUNDRAISER["id"],
        defaults={
            "title": FUNDRAISER["title"],
            "story": (
                "Fighting on the border drove tens of thousands from their homes in two days. "
                "Villages near Isfana were missed by official aid. We buy food, clothing and "
                "medicine in Bishkek and drive them there ourselves. Every tenge is in the "
                "public ledger, with receipts and delivery photos."
            ),
            "organiser": demo_account("organizer"),
            "group": Group.objects.get(slug=FUNDRAISER_GROUP),
            "region": Region.objects.get(slug="batken"),
            "goal_amount": Decimal("10500000"),
            "currency": "KZT",
            "starts_on": clock.local_day() - timedelta(days=2),
            "how_to_donate": (
                "Kaspi transfer to the organiser's card (ask in our Telegram channel), "
                "or cash at the Sports Palace desk, 09:00–21:00."
            ),
        }
        | FUNDRAISER_TRANSLATIONS,
    )
    fundraiser.places.set(Place.objects.filter(region__slug="batken"))
    fundraiser.hubs.set(Hub.objects.filter(slug="sports-palace"))
    return fundraiser
