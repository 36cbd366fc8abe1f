from django.urls import path

from .views import SearchApi

urlpatterns = [
    path("search/", SearchApi.as_view(), name="api-search"),
]
