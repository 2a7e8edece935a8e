"""``GET /fhir/r4/metadata``: the CapabilityStatement lists exactly what the server supports."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import get_resolver

from clinicflow.fhir import urls
from clinicflow.fhir.tests.conftest import fhir_json

pytestmark = pytest.mark.django_db


def test_metadata_is_an_r4_capability_statement_without_a_token() -> None:
    body = fhir_json(Client().get("/fhir/r4/metadata"), 200)
    assert body["resourceType"] == "CapabilityStatement"
    assert body["fhirVersion"] == "4.0.1"
    assert body["format"] == ["application/fhir+json", "json"]
    assert body["implementation"]["url"] == "http://testserver/fhir/r4/"


def test_metadata_lists_exactly_the_supported_resources_interactions_and_parameters() -> None:
    rest = fhir_json(Client().get("/fhir/r4/metadata"), 200)["rest"][0]
    supported = {
        r["type"]: (
            sorted(i["code"] for i in r["interaction"]),
            sorted(p["name"] for p in r.get("searchParam", [])),
        )
        for r in rest["resource"]
    }
    assert supported == {
        "Patient": (["create", "read", "search-type"], ["birthdate", "identifier", "name", "phone"]),
        "Appointment": (["create", "read", "search-type"], ["date", "patient", "practitioner", "status"]),
        "Practitioner": (["read", "search-type"], ["name"]),
        "Schedule": (["read", "search-type"], ["actor"]),
        "Slot": (["read", "search-type"], ["schedule", "service-type", "start", "status"]),
    }
    assert rest["interaction"] == [{"code": "transaction"}]
    # every resource it names has a read route and a type route, and nothing else is routed
    routed = {str(p.pattern).split("/")[0] for p in urls.urlpatterns} - {"", "metadata"}
    assert routed == set(supported)
    assert get_resolver().resolve("/fhir/r4/metadata").url_name == "metadata"


def test_an_xml_format_is_refused_with_406() -> None:
    response = Client().get("/fhir/r4/metadata", {"_format": "xml"})
    body = fhir_json(response, 406)
    assert body["issue"][0]["code"] == "not-supported"
    assert fhir_json(Client().get("/fhir/r4/metadata", HTTP_ACCEPT="application/fhir+xml"), 406)
