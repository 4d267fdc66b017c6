"""The admin site: Django's, with the date filters every model's list can be given bounded.

INSTALLED_APPS names `aidhub.adminsite.AdminConfig` in place of `django.contrib.admin`, so
`admin.site` is this site for our admins and for those of installed apps (django-axes) alike."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList

# The date hierarchy turns ?<field>__year=… into a range of datetimes; within a year of
# datetime's limits that range, or its conversion to UTC, does not exist, and Django turns only
# some of those errors into a wrong-filter answer. Years outside these are wrong filters too.
YEARS = range(2, 9999)


class BoundedDatesChangeList(ChangeList):
    def get_filters(self, request):
        # An impossible date is a wrong filter: the admin's "?e=1" page, not a server error.
        if self.date_hierarchy:
            year = request.GET.getlist(f"{self.date_hierarchy}__year")[-1:]
            if year and not (year[0].isdigit() and len(year[0]) <= 4 and int(year[0]) in YEARS):
                raise IncorrectLookupParameters(f"year {year[0]!r} is out of range")
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class BoundedDates:
    def get_changelist(self, request, **kwargs):
        return BoundedDatesChangeList


class AdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, BoundedDates):
            admin_class = type(
                admin_class.__name__,
                (BoundedDates, admin_class),
                {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
            )
        super().register(model_or_iterable, admin_class, **options)


class AdminConfig(DjangoAdminConfig):
    default_site = "aidhub.adminsite.AdminSite"
