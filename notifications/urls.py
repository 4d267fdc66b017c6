from django.urls import path

from aidhub.ratelimits import limit

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("subscribe/", limit("subscribe")(views.subscribe), name="subscribe"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("telegram/<str:secret>/", views.telegram_update, name="telegram"),
]
