from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("contacts/search/", views.contact_search, name="contact_search"),
    path("contacts/<int:pk>/portal/", views.contact_portal, name="contact_portal"),
]
