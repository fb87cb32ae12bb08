"""REST endpoints of areas: scoped list/detail and the point lookup."""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.errors import NotFound
from governance.selectors import area_get_for_user, areas_visible_to
from grids.models import Area
from grids.spatial import microgrid_at


class AreaSerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(source="parent.code", default=None, allow_null=True, read_only=True)

    class Meta:
        model = Area
        fields = ["code", "name", "level", "parent_code", "path", "households"]


class AreaListApi(ListAPIView):
    serializer_class = AreaSerializer
    filterset_fields = ["level", "parent__code"]

    def get_queryset(self):
        return areas_visible_to(self.request.user).select_related("parent").order_by("path")


class AreaDetailApi(RetrieveAPIView):
    serializer_class = AreaSerializer

    def get_object(self):
        return area_get_for_user(self.request.user, code=self.kwargs["code"])


class LocateSerializer(serializers.Serializer):
    lon = serializers.FloatField(min_value=-180, max_value=180)
    lat = serializers.FloatField(min_value=-90, max_value=90)


class LocateApi(APIView):
    """Which micro-grid holds a point. Answers only codes the caller may see."""

    @extend_schema(parameters=[LocateSerializer], responses=AreaSerializer)
    def get(self, request: Request) -> Response:
        params = LocateSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        hit = microgrid_at(params.validated_data["lon"], params.validated_data["lat"])
        if hit is None:
            raise NotFound(_("The point lies outside every micro-grid."), code="outside_district")
        area = area_get_for_user(request.user, code=hit.code)
        return Response(AreaSerializer(area).data)


urlpatterns = [
    path("areas/", AreaListApi.as_view(), name="api-area-list"),
    path("areas/locate/", LocateApi.as_view(), name="api-area-locate"),
    path("areas/<str:code>/", AreaDetailApi.as_view(), name="api-area-detail"),
]
