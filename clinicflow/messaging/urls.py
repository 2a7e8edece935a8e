from django.urls import path

from clinicflow.messaging import views

app_name = "messaging"
urlpatterns = [
    path("", views.message_list, name="list"),
    path("inbox/", views.demo_inbox, name="demo_inbox"),
    path("<uuid:message_id>/resolve/", views.message_resolve, name="resolve"),
    path("templates/", views.template_list, name="templates"),
    path("templates/<str:kind>/<str:channel>/<str:language>/", views.template_edit, name="template_edit"),
    path(
        "templates/<str:kind>/<str:channel>/<str:language>/reset/",
        views.template_reset,
        name="template_reset",
    ),
]
