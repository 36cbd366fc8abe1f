from django.urls import path

from . import release_views, views

app_name = "boards"
urlpatterns = [
    path("", views.board_list, name="list"),
    path("new/", views.board_create, name="create"),
    path("<int:pk>/settings/", views.board_settings, name="settings"),
    path("<int:pk>/", views.board_detail, name="detail"),
    path("<int:pk>/version/", views.board_version, name="version"),
    path("<int:pk>/metrics/", views.board_metrics, name="metrics"),
    path("<int:pk>/cards/new/", views.card_create, name="card_create"),
    path("cards/<int:pk>/", views.card_detail, name="card"),
    path("cards/<int:pk>/move/", views.card_move, name="card_move"),
    path("cards/<int:pk>/pull/", views.card_pull, name="card_pull"),
    path("cards/<int:pk>/block/", views.card_block, name="card_block"),
    path("cards/<int:pk>/unblock/", views.card_unblock, name="card_unblock"),
    path("cards/<int:pk>/cancel/", views.card_cancel, name="card_cancel"),
    path("releases/", release_views.release_list, name="releases"),
    path("releases/<int:pk>/", release_views.release_detail, name="release"),
    path("releases/<int:pk>/deploy/", release_views.release_deploy, name="release_deploy"),
]
