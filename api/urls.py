"""/api/: the versioned JSON API, its OpenAPI schema and its docs. The verifiers' /api/ledger/
endpoints are the ledger app's own and are not routed here."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from . import views

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", views.docs, name="docs"),
    path("v1/hubs/", views.HubList.as_view(), name="hubs"),
    path("v1/hubs/<str:slug>/", views.HubDetail.as_view(), name="hub"),
    path("v1/places/", views.PlaceList.as_view(), name="places"),
    path("v1/places/<str:slug>/", views.PlaceDetail.as_view(), name="place"),
    path("v1/requests/", views.RequestList.as_view(), name="requests"),
    path("v1/fundraisers/", views.FundraiserList.as_view(), name="fundraisers"),
    path("v1/fundraisers/<str:slug>/", views.FundraiserDetail.as_view(), name="fundraiser"),
    path("v1/deliveries/", views.DeliveryList.as_view(), name="deliveries"),
    path("v1/deliveries/<str:slug>/", views.DeliveryDetail.as_view(), name="delivery"),
    path(
        "v1/deliveries/<str:slug>/report/", views.DeliveryReport.as_view(), name="delivery-report"
    ),
    path("v1/ledger/entries/", views.LedgerEntryList.as_view(), name="ledger-entries"),
    path("v1/ledger/entries/<str:index>/", views.LedgerEntryDetail.as_view(), name="ledger-entry"),
    re_path(r"^v1/(?P<rest>.*)$", views.not_found),
]
