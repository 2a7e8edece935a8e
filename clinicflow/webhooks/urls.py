"""Pages of the webhooks app."""

from django.urls import URLPattern, URLResolver, path

from clinicflow.webhooks import views

app_name = "webhooks"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.subscription_list, name="subscriptions"),
    path("deliveries/", views.delivery_list, name="deliveries"),
    path("deliveries/<str:delivery_id>/replay/", views.delivery_replay, name="delivery_replay"),
    path("<str:subscription_id>/", views.subscription_detail, name="subscription"),
    path("<str:subscription_id>/toggle/", views.subscription_toggle, name="subscription_toggle"),
    path("<str:subscription_id>/delete/", views.subscription_delete, name="subscription_delete"),
]
