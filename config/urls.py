from django.urls import include, path
from django.views.i18n import set_language

from clinicflow.analytics import views as analytics_views
from clinicflow.core.access import public_view
from config.api import api

urlpatterns = [
    path("", include("clinicflow.core.urls")),
    path("home/", analytics_views.home, name="home"),
    path("accounts/", include("clinicflow.accounts.urls")),
    path("patients/", include("clinicflow.patients.urls")),
    path("catalogue/", include("clinicflow.catalogue.urls")),
    path("products/", include("clinicflow.catalogue.product_urls")),
    path("booking/", include("clinicflow.booking.urls")),
    path("book/", include("clinicflow.booking.public_urls")),
    path("acquisition/", include("clinicflow.acquisition.urls")),
    path("", include("clinicflow.acquisition.public_urls")),  # /hooks/calls/..., /t/... (tracking script)
    path("messaging/", include("clinicflow.messaging.urls")),
    path("analytics/", include("clinicflow.analytics.urls")),
    path("analytics/whatif/", include("clinicflow.analytics.pricing.urls")),
    path("privacy/", include("clinicflow.privacy.urls")),
    path("clinical/", include("clinicflow.clinical.urls")),
    path("ledger/", include("clinicflow.ledger.urls")),
    path("", include("clinicflow.ledger.public_urls")),  # the patient's wallet page by secure link
    path("care/", include("clinicflow.care.urls")),
    path("feedback/", include("clinicflow.feedback.urls")),
    path("", include("clinicflow.feedback.public_urls")),  # /s/<token>: the public survey
    path("imports/", include("clinicflow.imports.urls")),
    path("", include("clinicflow.imports.public_urls")),  # /hooks/yclients/<secret>
    path("fhir/r4/", include("clinicflow.fhir.urls")),
    path("marketing/", include("clinicflow.marketing.urls")),
    path("webhooks/", include("clinicflow.webhooks.urls")),
    path("", include("clinicflow.marketing.public_urls")),  # unsubscribe and offer links
    path("i18n/setlang/", public_view(set_language), name="set_language"),
    path("api/v1/", api.urls),
]

handler404 = "clinicflow.core.views.not_found"
handler500 = "clinicflow.core.views.server_error"
