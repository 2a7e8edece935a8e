from django.urls import path

from clinicflow.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("mfa/setup/", views.mfa_setup, name="mfa_setup"),
    path("mfa/", views.mfa_verify, name="mfa_verify"),
    path("mfa/remove/", views.mfa_remove, name="mfa_remove"),
    path("password/", views.password_change, name="password_change"),
]
