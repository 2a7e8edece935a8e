from django.urls import path

from clinicflow.analytics.pricing import views

app_name = "whatif"
urlpatterns = [
    path("", views.whatif_page, name="page"),
    path("scenarios/", views.scenario_save, name="scenario_save"),
    path("scenarios/<str:scenario_id>/delete/", views.scenario_delete, name="scenario_delete"),
    path("hypotheses/", views.hypothesis_create, name="hypothesis_create"),
    path("hypotheses/<str:hypothesis_id>/measure/", views.hypothesis_measure, name="hypothesis_measure"),
    path("hypotheses/<str:hypothesis_id>/decide/", views.hypothesis_decide, name="hypothesis_decide"),
    path("hypotheses/<str:hypothesis_id>/delete/", views.hypothesis_delete, name="hypothesis_delete"),
]
