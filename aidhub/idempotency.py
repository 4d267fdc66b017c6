"""One-time tokens: every write sent from a form or by the API is recorded once.

A form carries a token made when the page was shown (`{% one_time_token %}`); a phone sends an
Idempotency-Key header (the offline queue) or the same field. The first request with a token
claims it, by inserting it with a hash of its path and body, in the same transaction as the
write. Tokens are per account: UNIQUE (user, key). An API client chooses its key, so one
namespace for everyone would let another account take a key first, learn from the 409 that it
was used, and block its owner; the same key from two accounts is two independent submissions.
Then, for one account:

- a repeat (double tap, retry, resend from the queue) with the same body gets the first
  result and writes nothing;
- the same token with another body or on another page is refused (409);
- two copies at the same moment: UNIQUE (user, key) decides. On PostgreSQL the second INSERT
  waits for the first transaction and then fails; on SQLite the second waits for the write
  lock. The loser answers as a repeat.

Visitors without an account (the recipient's handover confirmation, the public Follow form)
share one namespace: rows with no user, UNIQUE (key) among them. So that nobody can take or
probe another visitor's token there, an anonymous key is kept only if it is unguessable:

- server-issued and signed (`s-` + a uuid4 + an HMAC of it under SECRET_KEY, see
  `anonymous_token`): what `{% one_time_token %}` puts in a form shown to a visitor without an
  account. Only for pages rendered per visitor: a page served whole from the cache
  (aidhub.pagecache) would give every visitor the same token;
- browser-made (`b-` + 32 lowercase hex, 128 random bits): a cached page's form has an empty
  field that static/js/one-time-token.js fills when the page opens. Without JavaScript it
  stays empty and the request is unprotected, as one without a token.

Any other key from a visitor without an account is ignored: the request goes on as one without
a token and nothing is stored. A browser-made key is chosen by the client, but only one that
the client itself made can match: 128 random bits cannot be guessed, so another visitor's is
out of reach and choosing one's own gains nothing.

A write that fails (a form error) rolls its claim back with it, so the token can be sent again
once the form is corrected. A POST without a token is accepted and protected by nothing: every
form we render carries one, and a client that leaves it out could as well send two tokens.
"""

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from .models import IdempotentSubmission

FIELD = "idempotency_key"
HEADER = "Idempotency-Key"
# \Z, not $: `$` also matches before a trailing newline ("a"*64 + "\n" would pass).
KEY = re.compile(r"\A[\x21-\x7e]{8,64}\Z")
# The two kinds of key a visitor without an account may use (module docstring).
SIGNED = re.compile(r"\As-([0-9a-f]{32})-([0-9a-f]{28})\Z")
BROWSER_MADE = re.compile(r"\Ab-[0-9a-f]{32}\Z")
_SALT = "aidhub.idempotency.anonymous"
# Not part of what was asked for: the CSRF token changes between renders of the same form.
NOT_BODY = frozenset({FIELD, "csrfmiddlewaretoken"})


class Conflict(Exception):
    """This account already used the token for another request: another body or page."""


def new_token() -> str:
    return uuid.uuid4().hex


def _signature(nonce: str) -> str:
    return salted_hmac(_SALT, nonce, algorithm="sha256").hexdigest()[:28]


def anonymous_token() -> str:
    """A token for a form shown to a visitor without an account: signed, so that the server
    keeps only keys it issued (or that the visitor's browser made)."""
    nonce = uuid.uuid4().hex
    return f"s-{nonce}-{_signature(nonce)}"


def anonymous_key_accepted(key: str) -> bool:
    signed = SIGNED.fullmatch(key)
    if signed:
        return constant_time_compare(signed[2], _signature(signed[1]))
    return bool(BROWSER_MADE.fullmatch(key))


def anonymous_purge() -> int:
    """Delete the tokens of visitors without an account used more than
    IDEMPOTENCY_ANONYMOUS_HOURS ago (beat, hourly): a double tap or a retry comes within
    minutes, and nobody has an account to look them up under. Returns how many went."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_ANONYMOUS_HOURS)
    old = IdempotentSubmission.objects.filter(user__isnull=True, created_at__lt=cutoff)
    return old.delete()[0]


def body_sha256(request: HttpRequest) -> str:
    """What the request asks for: its path, its fields and the bytes of its files."""
    fields = sorted((k, v) for k, v in request.POST.lists() if k not in NOT_BODY)
    files = []
    for name, uploads in sorted(request.FILES.lists()):
        hashes = []
        for upload in uploads:
            sha = hashlib.sha256()
            for chunk in upload.chunks():
                sha.update(chunk)
            upload.seek(0)
            hashes.append(sha.hexdigest())
        files.append((name, hashes))
    canonical = json.dumps([request.path, fields, files], ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Submission:
    key: str
    user_id: int | None  # None: the namespace of visitors without an account
    body_sha256: str

    def outcome(self) -> str | None:
        """The first request's result, or None if this account (or, without one, any visitor)
        has not used the token; Conflict if it was used for something else."""
        row = IdempotentSubmission.objects.filter(user_id=self.user_id, key=self.key).first()
        if row is None:
            return None
        legacy = not row.body_sha256  # recorded before bodies were hashed: the key alone
        if not (legacy or row.body_sha256 == self.body_sha256):
            raise Conflict
        return row.result

    def run(self, action: Callable[[], str]) -> tuple[str, bool]:
        """Claim the token and run `action` (which returns the result to remember) in one
        transaction; (result, True) if another copy had claimed it: its result, not run."""
        with transaction.atomic():
            try:
                with transaction.atomic():
                    claim = IdempotentSubmission.objects.create(
                        key=self.key, user_id=self.user_id, body_sha256=self.body_sha256
                    )
            except IntegrityError:
                claim = None  # taken by this account, committed: we waited if in flight
            if claim is not None:
                result = action()
                IdempotentSubmission.objects.filter(pk=claim.pk).update(result=result)
                return result, False
        result = self.outcome()
        if result is None:  # claimed and then deleted meanwhile: never by this app
            raise Conflict
        return result, True


def submission(request: HttpRequest, *, key: str = "", user=None) -> Submission | None:
    """The request's one-time token, if it has one: the header first, then the form field.
    Signed in: ValidationError for a token that is not one. Without an account: None unless
    the key is signed by us or browser-made (module docstring); nothing else is kept."""
    user = user or request.user
    key = key or request.headers.get(HEADER) or request.POST.get(FIELD, "")
    if not key:
        return None
    if not user.is_authenticated:
        if not anonymous_key_accepted(key):
            return None
        return Submission(key=key, user_id=None, body_sha256=body_sha256(request))
    if not KEY.fullmatch(key):
        raise ValidationError(
            _("This form is out of date. Open it again and send it once more."), code="token"
        )
    return Submission(key=key, user_id=user.pk, body_sha256=body_sha256(request))


# ---- for form views -------------------------------------------------------------------------


def conflict_page(request: HttpRequest) -> HttpResponse:
    return render(request, "409.html", status=409)


def _replayed(request: HttpRequest, result: str) -> HttpResponse:
    messages.info(request, _("This was already recorded; it was not recorded twice."))
    return redirect(result)


def replay_first(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer a repeat before the view runs: what the first request changed (a correction
    made, a delivery verified, a statement imported) would make the view refuse the copy."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST":
            try:
                found = submission(request)
                result = found.outcome() if found else None
            except Conflict:
                return conflict_page(request)
            except ValidationError:
                result = None  # the view's `respond` says what is wrong, in its form
            if result is not None:
                return _replayed(request, result)
        return view(request, *args, **kwargs)

    return wrapped


def respond(request: HttpRequest, action: Callable[[], str]) -> HttpResponse:
    """Run a form's write once per token and redirect to the URL `action` returns. A
    ValidationError from `action` (or from a bad token) goes back to the view's form."""
    found = submission(request)
    if found is None:
        return redirect(action())
    try:
        result, replayed = found.run(action)
    except Conflict:
        return conflict_page(request)
    return _replayed(request, result) if replayed else redirect(result)
