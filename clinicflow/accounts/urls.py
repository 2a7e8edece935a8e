from django.urls import path

from clinicflow.accounts import breakglass_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("mfa/setup/", views.mfa_setup, name="mfa_setup"),
    path("mfa/", views.mfa_verify, name="mfa_verify"),
    path("mfa/remove/", views.mfa_remove, name="mfa_remove"),
    path("password/", views.password_change, name="password_change"),
    path("break-glass/", breakglass_views.grant_list, name="break_glass_list"),
    path("break-glass/<str:grant_id>/revoke/", breakglass_views.grant_revoke, name="break_glass_revoke"),
]
