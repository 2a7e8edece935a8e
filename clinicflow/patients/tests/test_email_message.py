"""An invalid e-mail's message names the value typed, on the page and in the API."""

from __future__ import annotations

from clinicflow.patients.models import Patient
from clinicflow.patients.tests.factories import make_patient

BAD = "anna.example.ru"


def test_the_patient_page_shows_the_invalid_email_it_refused(web, branch) -> None:
    response = web("frontdesk").post(
        "/patients/new/",
        {
            "last_name": "Sidorova",
            "first_name": "Maria",
            "sex": "F",
            "phones": "8 (903) 555-12-34",
            "email": BAD,
            "preferred_language": "ru",
            "source": "referral",
            "branch": str(branch.pk),
        },
    )
    assert response.status_code == 422
    assert f"“{BAD}” is not a valid e-mail address" in response.content.decode()
    assert not Patient.objects.filter(last_name="Sidorova").exists()


def test_the_api_names_the_invalid_email_on_its_field(api, org, branch) -> None:
    patient = make_patient(org, branch=branch)
    response = api("owner").patch(
        f"/api/v1/patients/{patient.pk}", {"email": BAD}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["email"] == [f"“{BAD}” is not a valid e-mail address"]
