"""Pages of the imports app."""

from django.urls import URLPattern, URLResolver

from clinicflow.imports.views import wizard

app_name = "imports"
urlpatterns: list[URLPattern | URLResolver] = [*wizard.paths]
