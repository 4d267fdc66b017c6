from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from ledger.urls import api_urlpatterns as ledger_api

from . import pwa, security, views
from .ratelimits import limit

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/start/", views.start, name="start"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("accounts/login/", limit("login")(auth_views.LoginView.as_view()), name="login"),
    path("accounts/two-factor/", limit("two_factor")(security.two_factor), name="two_factor"),
    path(
        "accounts/two-factor/setup/<str:token>/",
        security.two_factor_setup,
        name="two_factor_setup",
    ),
    path("accounts/logout/", pwa.LogoutView.as_view(), name="logout"),
    path("search/", views.site_search, name="search"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("", include("deliveries.urls")),
    path("", include("hubs.urls")),
    path("fundraisers/", include("donations.urls")),
    path("groups/", include("groups.urls")),
    path("notifications/", include("notifications.urls")),
    path("ledger/", include("ledger.urls")),
    path("api/", include("api.urls")),
    path("api/ledger/", include((ledger_api, "ledger_api"))),
    path(settings.ADMIN_URL, admin.site.urls),
]
# Uploads are never served from MEDIA_ROOT as they lie, not even with DEBUG on: unpublished
# receipts and proof photos sit there beside published ones. Published files are served by
# /ledger/evidence/<sha256> and a volunteer's own photos by the delivery's page, each checking.
