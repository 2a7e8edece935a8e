from django.urls import path  # noqa: F401

app_name = "messaging"
urlpatterns: list = []  # type: ignore[type-arg]
