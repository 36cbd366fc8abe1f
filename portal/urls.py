from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.PortalLoginView.as_view(), name="login"),
    path("logout/", views.PortalLogoutView.as_view(), name="logout"),
    path("activate/<str:token>/", views.activate, name="activate"),
    path("password/reset/", views.PortalPasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", views.PortalPasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PortalPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        views.PortalPasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("account/", views.account, name="account"),
    path("new/", views.incident_new, name="new"),
    path("new/suggestions/", views.suggest, name="suggest"),
    path("articles/<int:pk>/", views.article, name="article"),
    path("files/<int:pk>/", views.attachment, name="attachment"),
    path("rate/<str:token>/", views.rate, name="rate"),
    path("<str:key>/", views.incident_detail, name="incident"),
]
