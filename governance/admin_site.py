"""The Django admin is for administrators only (a superuser or an `administrator` post).

Every other member of staff works in the product's own pages (the 设置 section,
governance/reference_views.py, covers the reference tables they used to read here). A signed-in
user who is not an administrator gets a 403 page in their language with links to those pages,
on every admin URL, the admin's login form included; visitors get the admin's login form.
"""

from __future__ import annotations

from functools import update_wrapper
from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache


def is_administrator(user: Any) -> bool:
    """Whether `user` may use the admin: active, and a superuser or holding an administrator post."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    from governance.scoping import scope_for  # the app registry is not ready when this module loads

    return scope_for(user).sees_all


def admin_refused(request: HttpRequest) -> HttpResponse:
    return render(request, "governance/admin_refused.html", status=403)


class AdministratorsAdminSite(AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request.user)

    def admin_view(self, view, cacheable: bool = False):
        guarded = super().admin_view(view, cacheable)

        def inner(request: HttpRequest, *args, **kwargs):
            # Signed-in non-administrators are refused outright (the default would send them to the
            # admin's login form); logging out stays open to everyone.
            if (
                request.user.is_authenticated
                and not self.has_permission(request)
                and request.path != reverse("admin:logout", current_app=self.name)
            ):
                return never_cache(admin_refused)(request)
            return guarded(request, *args, **kwargs)

        return update_wrapper(inner, view)

    def login(self, request: HttpRequest, extra_context=None):
        if request.user.is_authenticated and not self.has_permission(request):
            return never_cache(admin_refused)(request)
        return super().login(request, extra_context)


class AdministratorsAdminConfig(AdminConfig):
    """Installed in place of `django.contrib.admin` (settings.INSTALLED_APPS)."""

    default_site = "governance.admin_site.AdministratorsAdminSite"
