"""The two baselines the product's endpoints are measured against.

`trivial` is the cheapest Django JSON answer (no database). `insert` is the cheapest write that
goes through the same stack as a booking: the same middleware, DRF token authentication and
permission check, one `transaction.atomic` with one INSERT, a small JSON answer.
"""

from django.db import transaction
from django.http import JsonResponse
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import BenchRow


def trivial(request):
    return JsonResponse({"ok": True})


class _InsertInput(serializers.Serializer):
    value = serializers.IntegerField(min_value=0, max_value=2**31 - 1)


class InsertView(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request):
        data = _InsertInput(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            row = BenchRow.objects.create(user=request.user, value=data.validated_data["value"])
        return Response({"id": row.pk}, status=status.HTTP_201_CREATED)
