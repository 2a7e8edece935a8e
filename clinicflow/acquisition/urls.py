from django.urls import path  # noqa: F401

app_name = "acquisition"
urlpatterns: list = []  # type: ignore[type-arg]
