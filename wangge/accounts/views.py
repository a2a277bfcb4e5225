from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.accounts.forms import LoginForm
from wangge.accounts.navigation import home_url_for
from wangge.core import notify
from wangge.core.pages import not_found_as_404

INBOX_PAGE = 30


class WanggeLoginView(LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect(home_url_for(request.user))


@login_required
def inbox_page(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    items = notify.inbox_for(request.user, unread=unread_only)
    page = Paginator(items, INBOX_PAGE).get_page(request.GET.get("page"))
    return render(request, "accounts/inbox.html", {"page": page, "unread_only": unread_only})


@login_required
@require_POST
def inbox_read(request: HttpRequest) -> HttpResponse:
    """Mark the posted `id`s read, or every notification when none is posted."""
    posted = request.POST.getlist("id")
    ids = [int(i) for i in posted if i.isdigit()] if posted else None
    marked = notify.mark_read(by=request.user, ids=ids)
    if ids is None:
        messages.success(request, _("已将 %(n)d 条通知标为已读") % {"n": marked})
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("inbox")
    return redirect(back)


@not_found_as_404
@login_required
def inbox_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way."""
    item = notify.notification_for(request.user, pk)
    notify.mark_read(by=request.user, ids=[item.pk])
    # Links are paths set by our own code; anything else goes back to the inbox.
    ok = item.link.startswith("/") and url_has_allowed_host_and_scheme(
        item.link, allowed_hosts={request.get_host()})
    return redirect(item.link if ok else reverse("inbox"))
