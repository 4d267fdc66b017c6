from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from . import queries, services


@require_GET
def group_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A group's public page: who they are, their hubs and fundraisers. No member is named."""
    group, hubs, fundraisers = queries.public_group(slug)
    return render(
        request,
        "groups/group_detail.html",
        {"group": group, "hubs": hubs, "fundraisers": fundraisers},
    )


@login_required
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An organiser's invitation, opened by the invited account: joining takes a POST, so
    opening the link (or a mail scanner fetching it) changes nothing."""
    try:
        group, role = services.member_invitation_read(token=token, user=request.user)
        if request.method == "POST":
            # Read again inside the accept: the link may have been spent meanwhile.
            services.member_accept(token=token, user=request.user)
    except ValidationError as exc:
        context = {"error": " ".join(exc.messages)}
        return render(request, "groups/invitation.html", context, status=400)
    role_label = services.Role(role).label
    if request.method == "POST":
        messages.success(
            request,
            _("You are %(role)s of %(group)s.") % {"role": role_label, "group": group.name},
        )
        return redirect(group)
    return render(request, "groups/invitation.html", {"group": group, "role": role_label})
