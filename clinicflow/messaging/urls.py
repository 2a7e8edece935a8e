from django.urls import path

from clinicflow.messaging import views

app_name = "messaging"
urlpatterns = [
    path("", views.message_list, name="list"),
]
