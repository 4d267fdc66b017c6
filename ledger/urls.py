from django.urls import path

from . import views
from .feeds import LatestEntriesFeed

app_name = "ledger"

urlpatterns = [
    path("", views.entry_list, name="list"),
    path("<int:index>/", views.entry_detail, name="entry"),
    path("receipt/", views.receipt_lookup, name="receipt_lookup"),
    path("receipt/<str:code>/", views.receipt, name="receipt"),
    path("evidence/<str:sha256>", views.evidence, name="evidence"),
    path("evidence/<str:sha256>/thumb", views.evidence, {"thumbnail": True}, name="thumbnail"),
    path("export.<str:fmt>", views.export, name="export"),
    path("feed.atom", LatestEntriesFeed(), name="feed"),
    path("verify/", views.verify_instructions, name="verify"),
    path("verify.py", views.verifier_script, name="verifier_script"),
]

api_urlpatterns = [
    path("checkpoint", views.api_checkpoint, name="api_checkpoint"),
    path("key", views.api_key, name="api_key"),
    path("entries", views.api_entries, name="api_entries"),
    path("proof/inclusion", views.api_inclusion, name="api_inclusion"),
    path("proof/consistency", views.api_consistency, name="api_consistency"),
]
