"""The portal API (SPEC Appendix B), for portal accounts only: their own (or, for a customer
admin, their company's) incidents; create, read, reply, rate. Another customer's incident
is a 404, never a 403; a staff caller is refused (403): the portal is for customers."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.models import Attachment, CommentVia

from .. import selectors, services
from ..models import RatingVia
from ..permissions import can_use_portal, visible_incidents
from ..views import _file_response
from .serializers import (
    PortalCommentInSerializer,
    PortalCommentSerializer,
    PortalIncidentInSerializer,
    PortalIncidentListSerializer,
    PortalIncidentSerializer,
    RatingInSerializer,
    RatingSerializer,
)


class IsPortalContact(permissions.BasePermission):
    message = "The portal API is for customers' portal accounts."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and can_use_portal(request.user))


PORTAL_PERMISSIONS = [permissions.IsAuthenticated, IsPortalContact]


def _detail(request, incident, *, status_code=status.HTTP_200_OK):
    incident = selectors.portal_incident_get(user=request.user, key_or_id=incident.pk)
    context = {
        "request": request,
        "forecasts": selectors.forecasts_for([incident]),
        "rating": services.current_rating(incident),
    }
    return Response(PortalIncidentSerializer(incident, context=context).data, status=status_code)


class PortalIncidentListApi(generics.ListCreateAPIView):
    """`?state=open|closed|all` (default all). Newest first."""

    permission_classes = PORTAL_PERMISSIONS
    serializer_class = PortalIncidentListSerializer
    filter_backends: list = []

    def get_queryset(self):
        state = self.request.query_params.get("state", "all")
        return selectors.portal_incident_list(
            user=self.request.user, state=state if state in ("open", "closed") else "all"
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        rows = list(page if page is not None else self.get_queryset())
        context = {"request": request, "forecasts": selectors.forecasts_for(rows)}
        data = PortalIncidentListSerializer(rows, many=True, context=context).data
        return self.get_paginated_response(data)

    @extend_schema(request=PortalIncidentInSerializer, responses={201: PortalIncidentSerializer})
    def create(self, request, *args, **kwargs):
        data = PortalIncidentInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.portal_incident_create(user=request.user, **data.validated_data)
        return _detail(request, incident, status_code=status.HTTP_201_CREATED)


class PortalIncidentDetailApi(APIView):
    permission_classes = PORTAL_PERMISSIONS

    @extend_schema(responses=PortalIncidentSerializer)
    def get(self, request, pk):
        return _detail(request, selectors.portal_incident_get(user=request.user, key_or_id=pk))


class PortalIncidentCommentsApi(APIView):
    permission_classes = PORTAL_PERMISSIONS

    @extend_schema(request=PortalCommentInSerializer, responses={201: PortalCommentSerializer})
    def post(self, request, pk):
        incident = selectors.portal_incident_get(user=request.user, key_or_id=pk)
        data = PortalCommentInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.portal_comment(
            user=request.user, incident=incident, body=data.validated_data["body"], via=CommentVia.API
        )
        return Response(PortalCommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class PortalIncidentRatingApi(APIView):
    permission_classes = PORTAL_PERMISSIONS

    @extend_schema(request=RatingInSerializer, responses={201: RatingSerializer})
    def post(self, request, pk):
        incident = selectors.portal_incident_get(user=request.user, key_or_id=pk)
        data = RatingInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rating = services.rating_create(
            incident=incident,
            user=request.user,
            score=data.validated_data["score"],
            comment=data.validated_data["comment"],
            via=RatingVia.API,
        )
        return Response(RatingSerializer(rating).data, status=status.HTTP_201_CREATED)


class PortalAttachmentDownloadApi(APIView):
    """A file of a visible incident (never one on an internal note), as a download."""

    permission_classes = PORTAL_PERMISSIONS

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        found = get_object_or_404(
            Attachment.objects.select_related("comment"), pk=pk, incident__in=visible_incidents(request.user)
        )
        if found.comment_id and not found.comment.public:
            raise Http404
        return _file_response(found, inline=False)
