"""Pages of the care app."""

from django.urls import URLPattern, URLResolver, path

from clinicflow.care.views import plans, recall, tasks

app_name = "care"
urlpatterns: list[URLPattern | URLResolver] = [
    path("tasks/", tasks.task_list, name="tasks"),
    path("tasks/<str:task_id>/outcome/", tasks.task_outcome, name="task_outcome"),
    path("plans/", plans.plan_list, name="plans"),
    path("plans/defaults/", plans.plans_defaults, name="plans_defaults"),
    path("plans/new/", plans.plan_create, name="plan_create"),
    path("plans/<str:plan_id>/steps/", plans.step_add, name="step_add"),
    path("plans/<str:plan_id>/toggle/", plans.plan_toggle, name="plan_toggle"),
    path("steps/<str:step_id>/remove/", plans.step_remove, name="step_remove"),
    path("recall/", recall.recall_lists, name="recall_lists"),
    path("recall/setup/", recall.recall_setup, name="recall_setup"),
    path("recall/<str:list_id>/", recall.recall_list, name="recall_list"),
    path("recall/<str:list_id>/contact/", recall.recall_contact, name="recall_contact"),
    path("recall/<str:list_id>/message/", recall.recall_message, name="recall_message"),
]
