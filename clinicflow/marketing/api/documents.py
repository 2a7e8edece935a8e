"""Product documents: ``PUT /products/{product_id}/document/parts/{part}``,
``POST .../document/versions`` (publish) and
``GET /products/{product_id}/document.pdf``."""

from typing import Any

from django.http import HttpResponse
from ninja import Field, Router, Schema
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.catalogue import product_selectors
from clinicflow.core.api import ERRORS
from clinicflow.marketing.selectors import documents as selectors
from clinicflow.marketing.services import documents as services

router = Router(tags=["marketing"])


class PartIn(Schema):
    body: str = Field(..., max_length=20000)
    owner: str = Field("", description="owner department; the part's usual owner when empty")
    status: str = Field("draft", description="draft or reviewed")


class PartOut(Schema):
    part: str
    owner: str
    status: str
    body: str


class VersionOut(Schema):
    number: int
    parts: list[dict[str, Any]]


@router.put("/products/{product_id}/document/parts/{part}", response={200: PartOut, **ERRORS})
@api_perm("marketing.manage")
def part_save(request: ApiRequest, product_id: str, part: str, payload: PartIn) -> dict[str, Any]:
    """Write one of the seven parts; 422 naming a bad part, owner or status."""
    product = product_selectors.product_get(org=request.org, product_id=product_id)
    row = services.part_save(
        org=request.org, actor=request.auth, product=product, part=part, body=payload.body,
        owner=payload.owner, status=payload.status,
    )  # fmt: skip
    return {"part": row.part, "owner": row.owner, "status": row.status, "body": row.body}


@router.post("/products/{product_id}/document/versions", response={201: VersionOut, **ERRORS})
@api_perm("marketing.manage")
def document_publish(request: ApiRequest, product_id: str) -> Status[dict[str, Any]]:
    """Publish the next version; 422 naming the first part not yet written or reviewed."""
    product = product_selectors.product_get(org=request.org, product_id=product_id)
    version = services.document_publish(org=request.org, actor=request.auth, product=product)
    return Status(201, {"number": version.number, "parts": version.parts})


@router.get("/products/{product_id}/document.pdf", response={200: None, **ERRORS})
@api_perm("marketing.view")
def document_pdf(request: ApiRequest, product_id: str) -> HttpResponse:
    """The latest published version as a printable PDF."""
    product = product_selectors.product_get(org=request.org, product_id=product_id)
    version = selectors.version_get(org=request.org, product=product)
    language = (request.LANGUAGE_CODE or "en") if hasattr(request, "LANGUAGE_CODE") else "en"
    pdf = services.document_pdf(version=version, product=product, language=language)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{product.code}-v{version.number}.pdf"'
    return response
