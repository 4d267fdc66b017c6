from django.urls import path

from . import views

app_name = "hubs"

urlpatterns = [
    path("hubs/", views.hub_list, name="list"),
    path("hubs/<slug:slug>/", views.hub_detail, name="hub"),
    path("hubs/<slug:slug>/manage/", views.manage, name="manage"),
    path("hubs/<slug:slug>/receive/", views.receive, name="receive"),
    path("hubs/<slug:slug>/transfer/", views.transfer, name="transfer"),
    path("hubs/<slug:slug>/adjust/", views.adjust, name="adjust"),
    path("hubs/<slug:slug>/requests/new/", views.request_new, name="request_new"),
    path("requests/<int:pk>/edit/", views.request_edit, name="request_edit"),
    path("requests/<int:pk>/cancel/", views.request_cancel, name="request_cancel"),
    path("needs/", views.needs, name="needs"),
    path("gaps/", views.gaps, name="gaps"),
    path("places/<slug:slug>/", views.place_detail, name="place"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
]
