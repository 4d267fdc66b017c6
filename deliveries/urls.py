from django.urls import path

from aidhub.ratelimits import limit

from . import views

app_name = "deliveries"

urlpatterns = [
    path("deliveries/", views.my_deliveries, name="mine"),
    path("deliveries/awaiting/", views.awaiting, name="awaiting"),
    path("deliveries/<slug:slug>/", views.detail, name="detail"),
    path("deliveries/<slug:slug>/claim/", views.claim, name="claim"),
    path("deliveries/<slug:slug>/dispatch/", views.dispatch, name="dispatch"),
    path("deliveries/<slug:slug>/report/", limit("upload")(views.report), name="report"),
    path("deliveries/<slug:slug>/fail/", views.fail, name="fail"),
    path("deliveries/<slug:slug>/handover/", views.handover, name="handover"),
    path("deliveries/<slug:slug>/verify/", views.verify, name="verify"),
    path("deliveries/<slug:slug>/photos/<str:sha256>", views.photo, name="photo"),
    path("handover/<slug:slug>/", limit("handover")(views.confirm), name="confirm"),
    path("hubs/<slug:hub_slug>/deliveries/new/", views.plan, name="plan"),
    path("purchases/<int:pk>/deliver/", views.plan_purchase, name="plan_purchase"),
]
