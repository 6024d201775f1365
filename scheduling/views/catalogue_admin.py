"""The clinic admin's catalogue: services, the clinic's prices from a day on, and promotions.

Everything needs `catalogue.manage`. Prices and promotions belong to one clinic: staff keep
those of the clinics where they hold the capability (another clinic's page: 403; another
clinic's promotion or price row: 404). Services are shared by the network: only network-wide
staff (the network admin) edit their definitions; clinic admins see them read-only.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal import permissions
from portal.models import Clinic
from scheduling.errors import BookingError
from scheduling.forms.catalogue import PriceForm, PromotionForm, ServiceForm
from scheduling.models import Promotion, Service
from scheduling.permissions import (
    catalogue_clinic_for_user,
    get_promotion_for_user,
    get_service_price_for_user,
    may_edit_services,
)
from scheduling.selectors.catalogue import get_by_public_id
from scheduling.selectors.pricing import (
    clinic_catalogue,
    clinic_promotions,
    clinic_today,
    price_history,
)
from scheduling.services.pricing import (
    PROMOTION_FIELDS,
    promotion_save,
    service_price_delete,
    service_price_schedule,
    service_update,
)

CAPABILITY = "catalogue.manage"


def catalogue_url(clinic: Clinic) -> str:
    return f"{reverse('scheduling:catalogue')}?{urlencode({'clinic': str(clinic.public_id)})}"


def _base(request: HttpRequest, clinic: Clinic, **extra) -> dict:
    """What every catalogue page shows: the clinic, the clinics to switch to, the tabs."""
    return {
        "clinic": clinic,
        "clinics": list(permissions.clinics_with(request.user, CAPABILITY).order_by("name")),
        "may_edit_services": may_edit_services(request.user),
        "today": clinic_today(clinic),
        **extra,
    }


@login_required
@require_http_methods(["GET"])
def catalogue(request: HttpRequest) -> HttpResponse:
    """Services by specialty with the clinic's price today and the next change."""
    permissions.require_capability(request.user, CAPABILITY)
    asked = request.GET.get("clinic")
    clinic = (
        catalogue_clinic_for_user(request.user, asked)
        if asked
        else permissions.clinics_with(request.user, CAPABILITY).order_by("name").first()
    )
    if clinic is None:
        return render(request, "scheduling/catalogue/no_clinic.html")
    context = _base(request, clinic)
    context["sections"] = clinic_catalogue(clinic=clinic, day=context["today"])
    return render(request, "scheduling/catalogue/index.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def service_edit(request: HttpRequest, public_id) -> HttpResponse:
    """The shared definition of a service: name, duration, preparation, active, order."""
    if not may_edit_services(request.user):
        raise PermissionDenied
    service = get_by_public_id(Service.objects.select_related("specialty"), public_id)
    back = request.GET.get("clinic") or request.POST.get("clinic") or ""
    form = ServiceForm(request.POST or None, instance=Service.objects.get(pk=service.pk))
    if request.method == "POST" and form.is_valid():
        try:
            service_update(service=service, actor=request.user, **form.cleaned_data)
        except BookingError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("The service is saved."))
            url = reverse("scheduling:catalogue")
            return redirect(f"{url}?{urlencode({'clinic': back})}" if back else url)
    return render(
        request,
        "scheduling/catalogue/service.html",
        {"service": service, "form": form, "back_clinic": back},
    )


@login_required
@require_http_methods(["GET", "POST"])
def service_prices(request: HttpRequest, clinic_id, public_id) -> HttpResponse:
    """The clinic's price history of one service and a form to schedule a new price."""
    clinic = catalogue_clinic_for_user(request.user, clinic_id)
    service = get_by_public_id(Service.objects.select_related("specialty"), public_id)
    today = clinic_today(clinic)
    form = PriceForm(request.POST or None, initial={"valid_from": today})
    if request.method == "POST" and form.is_valid():
        try:
            row = service_price_schedule(
                clinic=clinic, service=service, actor=request.user, **form.cleaned_data
            )
        except BookingError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request,
                _("The new price applies from %(day)s.")
                % {"day": date_format(row.valid_from, "SHORT_DATE_FORMAT")},
            )
            return redirect("scheduling:catalogue_prices", clinic.public_id, service.public_id)
    context = _base(
        request,
        clinic,
        service=service,
        form=form,
        history=price_history(clinic=clinic, service=service, day=today),
    )
    return render(request, "scheduling/catalogue/prices.html", context)


@login_required
@require_POST
def price_delete(request: HttpRequest, public_id) -> HttpResponse:
    """Remove a price scheduled for a later day."""
    row = get_service_price_for_user(request.user, public_id)
    try:
        service_price_delete(row=row, actor=request.user)
    except BookingError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The scheduled price is removed."))
    return redirect("scheduling:catalogue_prices", row.clinic.public_id, row.service.public_id)


@login_required
@require_http_methods(["GET"])
def promotions(request: HttpRequest, clinic_id) -> HttpResponse:
    clinic = catalogue_clinic_for_user(request.user, clinic_id)
    context = _base(request, clinic, promotions=list(clinic_promotions(clinic=clinic)))
    return render(request, "scheduling/catalogue/promotions.html", context)


def _promotion_page(
    request: HttpRequest, clinic: Clinic, promotion: Promotion | None
) -> HttpResponse:
    """The form of a new or existing promotion; a valid post saves it through the service."""
    instance = promotion if promotion is not None else Promotion(clinic=clinic)
    form = PromotionForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in PROMOTION_FIELDS}
        try:
            promotion_save(clinic=clinic, actor=request.user, promotion=promotion, **fields)
        except BookingError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("The promotion is saved."))
            return redirect("scheduling:catalogue_promotions", clinic.public_id)
    context = _base(request, clinic, form=form, promotion=promotion)
    return render(request, "scheduling/catalogue/promotion.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def promotion_new(request: HttpRequest, clinic_id) -> HttpResponse:
    return _promotion_page(request, catalogue_clinic_for_user(request.user, clinic_id), None)


@login_required
@require_http_methods(["GET", "POST"])
def promotion_edit(request: HttpRequest, public_id) -> HttpResponse:
    promotion = get_promotion_for_user(request.user, public_id)
    # A fresh copy for the form: a refused save must not leave the form's changes on it.
    return _promotion_page(request, promotion.clinic, Promotion.objects.get(pk=promotion.pk))
