from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import path

from .tasks import mark_group_seen_by_worker


def record(request: HttpRequest) -> HttpResponse:
    with transaction.atomic():
        group = Group.objects.create(name="waiting-for-worker")
        mark_group_seen_by_worker.delay_on_commit(group.pk)
    return HttpResponse(str(group.pk), status=201)


urlpatterns = [path("record", record)]
