"""Cursor pagination for every list: stable under inserts, constant cost at any depth."""

import re

from django.db.models import Model, QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor as CursorPosition
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.views import APIView

BIGINT = 2**63
INTEGER = re.compile(r"^-?[0-9]{1,19}$")


class Cursor(CursorPagination):
    """Pages of 50, ordered by the view's `cursor_ordering`: one unique, indexed field.

    A cursor is opaque to clients; one that was tampered with gets a 404, never a 500."""

    page_size = 50
    ordering = "pk"

    def get_ordering(self, request: Request, queryset: QuerySet, view: APIView) -> tuple[str]:
        return (getattr(view, "cursor_ordering", self.ordering),)

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: APIView | None = None
    ) -> list | None:
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> CursorPosition | None:
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            self._check_position(cursor.position)
        return cursor

    def _check_position(self, position: str) -> None:
        """The position goes into a WHERE clause: it must fit the ordering field's type."""
        name = self.ordering[0].lstrip("-")
        model: type[Model] = self._model
        field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        if field.get_internal_type() in ("AutoField", "BigAutoField", "BigIntegerField"):
            if not INTEGER.match(position) or not -BIGINT <= int(position) < BIGINT:
                raise NotFound(self.invalid_cursor_message)
        elif "\x00" in position or len(position) > 200:
            raise NotFound(self.invalid_cursor_message)
