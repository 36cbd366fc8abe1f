from django.urls import path

from . import views

urlpatterns = [
    path("boards/", views.BoardListCreateApi.as_view(), name="api-boards"),
    path("boards/<int:pk>/", views.BoardDetailApi.as_view(), name="api-board"),
    path("columns/", views.ColumnListCreateApi.as_view(), name="api-columns"),
    path("columns/<int:pk>/", views.ColumnDetailApi.as_view(), name="api-column"),
    path("lanes/", views.LaneListCreateApi.as_view(), name="api-lanes"),
    path("lanes/<int:pk>/", views.LaneDetailApi.as_view(), name="api-lane"),
    path("cards/", views.CardListCreateApi.as_view(), name="api-cards"),
    path("cards/<int:pk>/", views.CardDetailApi.as_view(), name="api-card"),
    path("cards/<int:pk>/move/", views.CardMoveApi.as_view(), name="api-card-move"),
    path("cards/<int:pk>/pull/", views.CardPullApi.as_view(), name="api-card-pull"),
    path("cards/<int:pk>/block/", views.CardBlockApi.as_view(), name="api-card-block"),
    path("cards/<int:pk>/unblock/", views.CardUnblockApi.as_view(), name="api-card-unblock"),
    path("cards/<int:pk>/cancel/", views.CardCancelApi.as_view(), name="api-card-cancel"),
    path("releases/", views.ReleaseListCreateApi.as_view(), name="api-releases"),
    path("releases/<int:pk>/", views.ReleaseDetailApi.as_view(), name="api-release"),
    path("releases/<int:pk>/deploy/", views.ReleaseDeployApi.as_view(), name="api-release-deploy"),
    path("reason-codes/", views.ReasonCodeListApi.as_view(), name="api-reason-codes"),
]
