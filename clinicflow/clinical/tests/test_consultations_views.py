"""The consultation pages: the form from the appointment page, the detail with its quote, the quote
form and PDF, the actions, the template editor (versioned) and the conversion report."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from clinicflow.booking.models import Appointment
from clinicflow.clinical.models.consultations import Consultation, ConsultationTemplateVersion, Quote
from clinicflow.clinical.services.quotes import quote_create
from clinicflow.clinical.tests.consultations_setup import Consult, cc, checklist, consultation
from clinicflow.core.models import AuditEvent
from clinicflow.messaging.models import Message

__all__ = ["cc"]


def _form(**extra: str) -> dict[str, str]:
    data = {"category": "consultation", "concerns": "lines", "expectation": "6", "outcome": "thinking"}
    data.update(extra)
    return data


def test_the_appointment_page_links_to_the_consultation_form(
    cc: Consult, web: Callable[[str], Client]
) -> None:
    page = web("doctor").get(f"/booking/a/{cc.appt.pk}/")
    assert f"/clinical/appointments/{cc.appt.pk}/consultation/" in page.content.decode()
    page = web("frontdesk").get(f"/booking/a/{cc.appt.pk}/")
    assert "/consultation/" not in page.content.decode()


def test_a_doctor_fills_the_form_with_the_checklist_and_sees_the_detail(
    cc: Consult, web: Callable[[str], Client]
) -> None:
    checklist(cc)
    doctor = web("doctor")
    url = f"/clinical/appointments/{cc.appt.pk}/consultation/"
    page = doctor.get(url)
    assert page.status_code == 200 and "Pregnancy" in page.content.decode()
    bad = doctor.post(url, _form(expectation="12"))
    assert bad.status_code == 422 and not Consultation.objects.exists()
    bad = doctor.post(url, _form(outcome="declined"))
    assert bad.status_code == 422
    r = doctor.post(url, _form(ci_1="on"))
    c = Consultation.objects.get()
    assert r.status_code == 302 and c.contraindications == {"Pregnancy": False, "Anticoagulants": True}
    detail = doctor.get(f"/clinical/consultations/{c.pk}/")
    assert detail.status_code == 200 and "Anticoagulants" in detail.content.decode()
    assert AuditEvent.objects.filter(object_type="consultation", object_id=str(c.pk), action="view").exists()


def test_a_quote_is_written_sent_printed_and_accepted_from_the_pages(
    cc: Consult, web: Callable[[str], Client]
) -> None:
    c = consultation(cc)
    doctor = web("doctor")
    r = doctor.post(
        f"/clinical/consultations/{c.pk}/quote/",
        {
            "kind_0": "procedure",
            "service_0": str(cc.botox.pk),
            "quantity_0": "1",
            "kind_1": "drug",
            "description_1": "Toxin",
            "unit_price_1": "100",
            "quantity_1": "20",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    quote = Quote.objects.get()
    assert str(quote.total) == "20000.00"
    pdf = doctor.get(f"/clinical/quotes/{quote.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    doctor.post(f"/clinical/quotes/{quote.pk}/send/")
    assert Message.objects.filter(kind="quote", language="ru").count() == 1
    doctor.post(f"/clinical/quotes/{quote.pk}/accept/")
    quote.refresh_from_db()
    assert quote.status == "accepted"
    assert Appointment.objects.filter(service=cc.botox, patient=cc.patient).count() == 1
    bad = doctor.post(f"/clinical/consultations/{c.pk}/quote/", {"kind_0": "procedure"})
    assert bad.status_code == 422 and "lines[0].service" in bad.content.decode()


@pytest.mark.parametrize("persona", ["marketer", "frontdesk"])
def test_marketers_and_the_front_desk_are_refused_every_page(
    cc: Consult, web: Callable[[str], Client], persona: str
) -> None:
    c = consultation(cc)
    quote = quote_create(
        org=cc.org, actor=None, consultation=c, lines=[{"kind": "procedure", "service": str(cc.botox.pk)}]
    )
    client = web(persona)
    for url in (
        f"/clinical/appointments/{cc.appt.pk}/consultation/",
        f"/clinical/consultations/{c.pk}/",
        f"/clinical/consultations/{c.pk}/quote/",
        f"/clinical/quotes/{quote.pk}/pdf/",
        "/clinical/consultation-templates/",
        "/clinical/reports/consultants/",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/clinical/quotes/{quote.pk}/accept/").status_code == 403


def test_another_organisations_consultation_is_not_found(cc: Consult, web: Callable[[str], Client]) -> None:
    c = consultation(cc)
    quote = quote_create(
        org=cc.org, actor=None, consultation=c, lines=[{"kind": "procedure", "service": str(cc.botox.pk)}]
    )
    outsider = web("outsider")
    assert outsider.get(f"/clinical/consultations/{c.pk}/").status_code == 404
    assert outsider.get(f"/clinical/appointments/{cc.appt.pk}/consultation/").status_code == 404
    assert outsider.get(f"/clinical/quotes/{quote.pk}/pdf/").status_code == 404
    assert outsider.post(f"/clinical/quotes/{quote.pk}/accept/").status_code == 404


def test_the_manager_edits_the_template_as_new_versions(cc: Consult, web: Callable[[str], Client]) -> None:
    manager = web("manager")
    url = "/clinical/consultation-templates/"
    assert manager.get(url).status_code == 200
    manager.post(url, {"category": "fillers", "contraindications": "Pregnancy\nAutoimmune disease\n"})
    manager.post(url, {"category": "fillers", "contraindications": "Pregnancy"})
    versions = list(ConsultationTemplateVersion.objects.order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].contraindications == ["Pregnancy", "Autoimmune disease"]
    assert web("doctor").get(url).status_code == 403


def test_the_conversion_report_and_its_csv(cc: Consult, web: Callable[[str], Client]) -> None:
    consultation(cc)
    page = web("manager").get("/clinical/reports/consultants/")
    assert page.status_code == 200 and "Dr Petrova" in page.content.decode()
    csv = web("manager").get("/clinical/reports/consultants/", {"format": "csv"})
    assert csv["Content-Type"].startswith("text/csv") and "Dr Petrova,1,0,0" in csv.content.decode()


def test_the_clinic_s_own_questions_are_asked_answered_and_kept_with_their_version(
    cc: Consult, web: Callable[[str], Client]
) -> None:
    manager = web("manager")
    manager.post(
        "/clinical/consultation-templates/",
        {
            "category": "consultation",
            "contraindications": "Pregnancy",
            "questions": "Earlier fillers?\nBudget",
        },
    )
    version = ConsultationTemplateVersion.objects.get()
    assert version.questions == ["Earlier fillers?", "Budget"]
    doctor = web("doctor")
    url = f"/clinical/appointments/{cc.appt.pk}/consultation/"
    assert "Earlier fillers?" in doctor.get(url).content.decode()
    r = doctor.post(url, _form(q_0="Lips, 2024", q_1=""))
    c = Consultation.objects.get()
    assert r.status_code == 302 and c.answers == {"Earlier fillers?": "Lips, 2024"}
    assert c.template_version_id == version.pk
    # a new version with other questions: the answered consultation keeps its version and answers
    manager.post("/clinical/consultation-templates/", {"category": "consultation", "questions": "Allergies"})
    c.refresh_from_db()
    assert c.template_version_id == version.pk and c.answers == {"Earlier fillers?": "Lips, 2024"}
    detail = doctor.get(f"/clinical/consultations/{c.pk}/").content.decode()
    assert "Earlier fillers?" in detail and "Lips, 2024" in detail
    assert "Earlier fillers?" in doctor.get(url).content.decode()  # editing shows the questions it was asked
