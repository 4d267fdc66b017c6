from django.urls import path

from aidhub.ratelimits import limit

from . import views

app_name = "donations"

urlpatterns = [
    path("", views.fundraiser_list, name="list"),
    # Two segments, so no fundraiser's slug can shadow them.
    path("goods/incoming/", views.goods_incoming, name="goods_incoming"),
    path("goods/incoming/<int:pk>/", views.goods_decide, name="goods_decide"),
    path("handovers/<int:pk>/", views.handover_answer, name="handover_answer"),
    path("<slug:slug>/", views.fundraiser_detail, name="fundraiser"),
    path("<slug:slug>/preview.png", views.fundraiser_preview, name="preview"),
    path("<slug:slug>/manage/", views.manage, name="manage"),
    path("<slug:slug>/donations/new/", limit("upload")(views.donation_new), name="donation_new"),
    path("<slug:slug>/expenses/new/", limit("upload")(views.expense_new), name="expense_new"),
    path(
        "<slug:slug>/donations/<int:pk>/correct/",
        views.correct,
        {"kind": "donation"},
        name="correct_donation",
    ),
    path(
        "<slug:slug>/expenses/<int:pk>/correct/",
        views.correct,
        {"kind": "expense"},
        name="correct_expense",
    ),
    path(
        "<slug:slug>/payment-methods/new/",
        limit("upload")(views.payment_method_new),
        name="payment_method_new",
    ),
    path(
        "<slug:slug>/payment-methods/<int:pk>/",
        limit("upload")(views.payment_method_edit),
        name="payment_method_edit",
    ),
    path(
        "<slug:slug>/payment-methods/<int:pk>/remove/",
        views.payment_method_remove,
        name="payment_method_remove",
    ),
    path(
        "<slug:slug>/pending/expenses/<int:pk>/receipt/",
        views.expense_receipt,
        name="pending_receipt",
    ),
    path(
        "<slug:slug>/pending/expenses/<int:pk>/",
        views.decide,
        {"kind": "expense"},
        name="expense_decide",
    ),
    path(
        "<slug:slug>/pending/payment-methods/<int:pk>/",
        views.decide,
        {"kind": "payment"},
        name="payment_decide",
    ),
    path("<slug:slug>/transfers/new/", views.transfer_new, name="transfer_new"),
    path("<slug:slug>/transfers/<int:pk>/", views.transfer_decide, name="transfer_decide"),
    path(
        "<slug:slug>/transfers/incoming/<int:pk>/",
        views.transfer_answer,
        name="transfer_answer",
    ),
    path("<slug:slug>/statement/", views.statement, name="statement"),
    path("<slug:slug>/reconcile/", views.reconcile_view, name="reconcile"),
]
