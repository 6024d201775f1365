from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render

from portal import permissions
from portal.selectors.health import health_report
from portal.selectors.network import active_clinics


def landing(request):
    return render(request, "portal/landing.html", {"clinics": active_clinics()})


@login_required
def home(request):
    role = permissions.primary_role(request.user)
    return render(request, "portal/home.html", {"role": role})


def healthz(request):
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
