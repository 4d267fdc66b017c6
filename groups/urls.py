from django.urls import path

from . import views

app_name = "groups"

urlpatterns = [
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("<slug:slug>/", views.group_detail, name="group"),
]
