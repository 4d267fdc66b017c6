"""Bulk import of places and items from CSV, so a coordinator can load a region's settlements.

All or nothing: every row is checked first, and any error (with its line number) stops the
import before anything is written. Rows whose `slug` exists update that row.
"""

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from .models import Category, Item, Place, Region, Unit

PLACE_COLUMNS = ["slug", "name", "kind", "region", "district", "latitude", "longitude",
                 "population_displaced"]  # fmt: skip
ITEM_COLUMNS = ["slug", "name", "name_ru", "name_ky", "name_kk", "name_uz", "name_tg",
                "category", "unit"]  # fmt: skip


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def _rows(lines: Iterable[str], required: list[str]) -> Iterable[tuple[int, dict]]:
    reader = csv.DictReader(lines)
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError(f"the CSV has no column {', '.join(missing)}")
    for row in reader:
        yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}


def _decimal(value: str, low: int, high: int) -> Decimal | None:
    if not value:
        return None
    number = Decimal(value)
    if not low <= number <= high:
        raise ValueError(f"{value} is outside {low}..{high}")
    return number


def places_import(lines: Iterable[str], *, dry_run: bool = False) -> ImportResult:
    result = ImportResult()
    regions = {r.slug: r for r in Region.objects.all()} | {
        r.name.lower(): r for r in Region.objects.all()
    }
    valid: list[dict] = []
    for line, row in _rows(lines, ["name", "region"]):
        try:
            region = regions.get(row["region"].lower())
            if region is None:
                raise ValueError(f"unknown region “{row['region']}”")
            kind = row.get("kind") or Place.Kind.VILLAGE
            if kind not in Place.Kind.values:
                raise ValueError(f"kind must be one of {', '.join(Place.Kind.values)}")
            if not row["name"]:
                raise ValueError("name is empty")
            population = row.get("population_displaced") or ""
            valid.append({
                "slug": row.get("slug") or slugify(row["name"]),
                "name": row["name"],
                "kind": kind,
                "region": region,
                "district": row.get("district", ""),
                "latitude": _decimal(row.get("latitude", ""), -90, 90),
                "longitude": _decimal(row.get("longitude", ""), -180, 180),
                "population_displaced": int(population) if population else None,
            })  # fmt: skip
        except (ValueError, InvalidOperation) as exc:
            result.errors.append(f"line {line}: {exc}")
    return _save(Place, valid, result, dry_run)


def items_import(lines: Iterable[str], *, dry_run: bool = False) -> ImportResult:
    result = ImportResult()
    valid: list[dict] = []
    for line, row in _rows(lines, ["name", "category", "unit"]):
        try:
            if row["category"] not in Category.values:
                raise ValueError(f"category must be one of {', '.join(Category.values)}")
            if row["unit"] not in Unit.values:
                raise ValueError(f"unit must be one of {', '.join(Unit.values)}")
            if not row["name"]:
                raise ValueError("name is empty")
            valid.append(
                {c: row.get(c, "") for c in ITEM_COLUMNS}
                | {"slug": row.get("slug") or slugify(row["name"])}
            )
        except ValueError as exc:
            result.errors.append(f"line {line}: {exc}")
    return _save(Item, valid, result, dry_run)


def _save(model, rows: list[dict], result: ImportResult, dry_run: bool) -> ImportResult:
    slugs = [row["slug"] for row in rows]
    duplicates = {s for s in slugs if slugs.count(s) > 1}
    if duplicates:
        result.errors.append(f"the file lists {', '.join(sorted(duplicates))} more than once")
    if result.errors or dry_run:
        return result
    with transaction.atomic():
        for row in rows:
            slug = row.pop("slug")
            _obj, created = model.objects.update_or_create(slug=slug, defaults=row)
            if created:
                result.created += 1
            else:
                result.updated += 1
    return result
