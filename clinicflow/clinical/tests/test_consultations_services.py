"""Consultations and quotes: field-named validation, template versions kept, exact totals, accepting a
quote into booked appointments, the e-mail in the patient's language with its PDF, audit rows."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from clinicflow.booking.models import Appointment
from clinicflow.clinical.models.consultations import QuoteLine, QuoteStatus
from clinicflow.clinical.quote_pdf import quote_pdf
from clinicflow.clinical.selectors.consultations import conversion_by_consultant, quote_lines
from clinicflow.clinical.services.consultations import template_version_create
from clinicflow.clinical.services.quotes import quote_accept, quote_create, quote_decline, quote_send
from clinicflow.clinical.tests.consultations_setup import Consult, cc, checklist, consultation
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import AuditEvent, Branch
from clinicflow.messaging.models import Message

__all__ = ["cc"]


@pytest.mark.parametrize("value", [-1, 11, "7.5", "", None, True, "ten"])
def test_expectation_outside_0_to_10_or_not_a_whole_number_is_refused_naming_the_field(
    cc: Consult, value: object
) -> None:
    with pytest.raises(ValidationFailed) as err:
        consultation(cc, expectation=value)
    assert "expectation" in err.value.fields


@pytest.mark.parametrize("value", [0, 10, "3"])
def test_expectation_at_the_bounds_is_kept(cc: Consult, value: object) -> None:
    assert consultation(cc, expectation=value).expectation == int(str(value))


def test_declined_needs_a_reason_and_an_unknown_outcome_is_refused(cc: Consult) -> None:
    with pytest.raises(ValidationFailed) as err:
        consultation(cc, outcome="declined")
    assert "outcome_reason" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        consultation(cc, outcome="maybe")
    assert "outcome" in err.value.fields
    c = consultation(cc, outcome="declined", outcome_reason="price")
    assert (c.outcome, c.outcome_reason) == ("declined", "price")


def test_a_consultation_keeps_the_template_version_it_was_answered_on(cc: Consult) -> None:
    checklist(cc)
    c = consultation(cc, contraindications={"Pregnancy": False, "Anticoagulants": True})
    first = c.template_version
    assert first is not None and first.number == 1
    template_version_create(org=cc.org, actor=None, category="consultation", contraindications=["Keloids"])
    again = consultation(cc, contraindications={"Pregnancy": True}, expectation=5)  # answered again
    assert again.pk == c.pk and again.template_version_id == first.pk
    assert again.contraindications == {"Pregnancy": True} and again.expectation == 5
    first.refresh_from_db()
    assert first.contraindications == ["Pregnancy", "Anticoagulants"]
    with pytest.raises(ValidationFailed) as err:
        consultation(cc, contraindications={"Keloids": True})  # on version 2 only
    assert "contraindications" in err.value.fields


def test_a_procedure_appointment_takes_no_consultation(cc: Consult) -> None:
    cc.appt.service = cc.botox
    with pytest.raises(ValidationFailed) as err:
        consultation(cc)
    assert "appointment" in err.value.fields


def _lines(cc: Consult) -> list[dict[str, object]]:
    return [
        {
            "kind": "procedure",
            "service": str(cc.botox.pk),
            "quantity": 2,
            "discount_kind": "percent",
            "discount_value": Decimal("12.5"),
            "discount_reason": "course",
        },
        {"kind": "drug", "description": "Botulinum toxin, units", "unit_price": "350.10", "quantity": "30"},
        {
            "kind": "consumable",
            "description": "Cannula",
            "unit_price": "999.99",
            "quantity": 1,
            "discount_kind": "amount",
            "discount_value": "0.99",
            "discount_reason": "loyalty",
        },
        {"kind": "follow_up", "service": str(cc.consult.pk)},
    ]


def test_quote_totals_are_exact_decimals_with_discounts(cc: Consult) -> None:
    quote = quote_create(org=cc.org, actor=None, consultation=consultation(cc), lines=_lines(cc))
    totals = [line.total for line in quote_lines(org=cc.org, quote=quote)]
    # 2 x 18000 - 12.5 % = 31500; 30 x 350.10 = 10503; 999.99 - 0.99 = 999; the visit 3000
    assert totals == [Decimal("31500.00"), Decimal("10503.00"), Decimal("999.00"), Decimal("3000.00")]
    assert quote.total == Decimal("46002.00") and quote.currency == "RUB"
    assert quote.status == QuoteStatus.DRAFT


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"kind": "laser"}, "lines[0].kind"),
        ({"kind": "procedure"}, "lines[0].service"),
        ({"kind": "drug", "unit_price": "10"}, "lines[0].description"),
        ({"kind": "drug", "description": "x", "unit_price": 1.5}, "lines[0].unit_price"),
        ({"kind": "drug", "description": "x", "unit_price": "1", "quantity": "0"}, "lines[0].quantity"),
        (
            {
                "kind": "drug",
                "description": "x",
                "unit_price": "1",
                "discount_kind": "percent",
                "discount_value": "101",
                "discount_reason": "r",
            },
            "lines[0].discount_value",
        ),
        (
            {
                "kind": "drug",
                "description": "x",
                "unit_price": "1",
                "discount_kind": "amount",
                "discount_value": "0.5",
            },
            "lines[0].discount_reason",
        ),
    ],
)
def test_a_bad_line_is_refused_naming_the_line_and_field(
    cc: Consult, line: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationFailed) as err:
        quote_create(org=cc.org, actor=None, consultation=consultation(cc), lines=[line])
    assert field in err.value.fields


def test_sending_queues_an_email_in_the_patients_language_with_the_pdf(cc: Consult) -> None:
    quote = quote_create(org=cc.org, actor=None, consultation=consultation(cc), lines=_lines(cc))
    quote_send(org=cc.org, actor=None, quote=quote)
    message = Message.objects.get(organization=cc.org, kind="quote")
    assert message.language == "ru" and message.to == "anna@example.org"
    assert "Ваше предложение" in message.subject
    attachment = message.attachments.get()
    assert attachment.filename == "quote.pdf" and bytes(attachment.content).startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(bytes(attachment.content))).pages)
    assert "Предложение" in text and "Действительно до" in text
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT


def test_the_pdf_lists_every_line_in_the_language_asked(cc: Consult) -> None:
    quote = quote_create(org=cc.org, actor=None, consultation=consultation(cc), lines=_lines(cc))
    pdf = quote_pdf(org=cc.org, quote=quote, lines=quote_lines(org=cc.org, quote=quote), language="en")
    text = " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    for expected in (
        "Quote",
        "Botulinum forehead",
        "Botulinum toxin, units",
        "Cannula",
        "course",
        "Valid until",
    ):
        assert expected in text
    assert "46" in text and "002" in text


def test_accepting_books_each_procedure_session_with_the_consultations_doctor(cc: Consult) -> None:
    c = consultation(cc)
    quote = quote_create(org=cc.org, actor=None, consultation=c, lines=_lines(cc))
    booked = quote_accept(org=cc.org, actor=None, quote=quote)
    appts = list(Appointment.objects.filter(organization=cc.org, service=cc.botox).order_by("start_at"))
    assert len(appts) == 2 and {a.doctor_id for a in appts} == {cc.doctor.pk}
    assert appts[1].start_at >= appts[0].busy_until
    assert booked[0].appointment_id == appts[0].pk
    quote.refresh_from_db()
    c.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED and c.outcome == "booked"
    with pytest.raises(Conflict):
        quote_accept(org=cc.org, actor=None, quote=quote)  # closed
    [row] = conversion_by_consultant(org=cc.org, date_from=c.created_at.date(), date_to=c.created_at.date())
    assert (row.consultations, row.quoted, row.accepted, row.rate) == (1, 1, 1, Decimal(1))


def test_no_free_slot_names_the_line_and_books_nothing(cc: Consult) -> None:
    lines = [{"kind": "procedure", "service": str(cc.filler.pk)}]  # Dr Petrova does not do fillers
    quote = quote_create(org=cc.org, actor=None, consultation=consultation(cc), lines=lines)
    with pytest.raises(Conflict) as err:
        quote_accept(org=cc.org, actor=None, quote=quote)
    assert "line 1" in str(err.value.message) and "Lip filler" in str(err.value.message)
    assert not Appointment.objects.filter(organization=cc.org, service=cc.filler).exists()
    assert not QuoteLine.objects.filter(quote=quote, appointment__isnull=False).exists()


def test_a_declined_quote_is_closed_and_every_write_is_audited(cc: Consult) -> None:
    c = consultation(cc)
    quote = quote_create(org=cc.org, actor=None, consultation=c, lines=_lines(cc))
    quote_decline(org=cc.org, actor=None, quote=quote)
    with pytest.raises(Conflict):
        quote_send(org=cc.org, actor=None, quote=quote)
    kinds = set(AuditEvent.objects.filter(organization=cc.org).values_list("object_type", "action"))
    assert {("consultation", "create"), ("quote", "create"), ("quote", "update")} <= kinds


def test_an_expired_quote_cannot_be_accepted(cc: Consult) -> None:
    import datetime as dt

    quote = quote_create(org=cc.org, actor=None, consultation=consultation(cc), lines=_lines(cc))
    type(quote).objects.filter(pk=quote.pk).update(valid_until=dt.date(2020, 1, 1))
    with pytest.raises(Conflict) as err:
        quote_accept(org=cc.org, actor=None, quote=quote)
    assert "expired" in str(err.value.message)
    assert not Appointment.objects.filter(organization=cc.org, service=cc.botox).exists()


def test_a_patient_without_an_email_gets_no_quote_by_email(cc: Consult) -> None:
    cc.patient.email = ""
    cc.patient.save()
    quote = quote_create(org=cc.org, actor=None, consultation=consultation(cc), lines=_lines(cc))
    with pytest.raises(ValidationFailed) as err:
        quote_send(org=cc.org, actor=None, quote=quote)
    assert "email" in err.value.fields
    assert not Message.objects.filter(kind="quote").exists()


def test_the_chinese_pdf_is_set_in_the_cjk_font(cc: Consult) -> None:
    quote = quote_create(org=cc.org, actor=None, consultation=consultation(cc), lines=_lines(cc))
    pdf = quote_pdf(org=cc.org, quote=quote, lines=quote_lines(org=cc.org, quote=quote), language="zh-hans")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert b"STSong-Light" in pdf and "报价" in text and "有效期至" in text


def test_a_branch_bound_list_counts_only_what_it_pages(cc: Consult, branch2: Branch) -> None:
    from clinicflow.clinical.selectors.consultations import consultation_list
    from clinicflow.patients.models import Patient

    consultation(cc)
    assert consultation_list(org=cc.org, branch_id=branch2.pk)[0] == 1  # a patient of no branch: anyone's
    Patient.objects.for_org(cc.org).filter(pk=cc.patient.pk).update(branch=cc.branch)
    assert consultation_list(org=cc.org)[0] == 1
    assert consultation_list(org=cc.org, branch_id=cc.branch.pk)[0] == 1
    count, page = consultation_list(org=cc.org, branch_id=branch2.pk)
    assert (count, page) == (0, [])
