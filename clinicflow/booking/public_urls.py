from django.urls import path  # noqa: F401

app_name = "booking_public"
urlpatterns: list = []  # type: ignore[type-arg]
