"""Pages of packaged products and product lines, under /products/ (namespace "products")."""

from django.urls import URLPattern, URLResolver

from clinicflow.catalogue.product_views import paths

app_name = "products"
urlpatterns: list[URLPattern | URLResolver] = [*paths]
