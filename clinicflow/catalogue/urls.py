from django.urls import path

from clinicflow.catalogue import views

app_name = "catalogue"
urlpatterns = [
    path("", views.service_list, name="list"),
    path("new/", views.service_create, name="create"),
    path("<str:service_id>/", views.service_detail, name="detail"),
    path("<str:service_id>/edit/", views.service_edit, name="edit"),
    path("<str:service_id>/price/", views.price_change, name="price"),
    path("<str:service_id>/archive/", views.service_archive, name="archive"),
    path("<str:service_id>/restore/", views.service_restore, name="restore"),
]
