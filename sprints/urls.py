from django.urls import path

from . import views

app_name = "sprints"
urlpatterns = [
    path("", views.sprint_list, name="list"),
    path("new/", views.sprint_create, name="create"),
    path("<int:pk>/", views.sprint_detail, name="detail"),
    path("<int:pk>/edit/", views.sprint_edit, name="edit"),
    path("<int:pk>/capacity/", views.sprint_capacity, name="capacity"),
    path("<int:pk>/plan/", views.sprint_plan, name="plan"),
    path("<int:pk>/plan/move/", views.plan_move, name="plan_move"),
    path("<int:pk>/plan/reorder/", views.plan_reorder, name="plan_reorder"),
    path("<int:pk>/start/", views.sprint_start, name="start"),
    path("<int:pk>/close/", views.sprint_close, name="close"),
    path("<int:pk>/members/<int:member_pk>/", views.member_update, name="member_update"),
    path("teams/<int:team_pk>/settings/", views.team_settings, name="team_settings"),
]
