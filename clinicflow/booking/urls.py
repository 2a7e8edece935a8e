from django.urls import path  # noqa: F401

app_name = "booking"
urlpatterns: list = []  # type: ignore[type-arg]
