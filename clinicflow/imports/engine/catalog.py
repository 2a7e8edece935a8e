"""Services and doctors named in a file: matched by code or name (case-insensitive), else created."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.utils.text import slugify

from clinicflow.booking.models import Doctor, DoctorBranch, DoctorService
from clinicflow.catalogue.models import RoomType, Service, ServiceCategory
from clinicflow.imports.engine.clean import Ctx


class Catalog:
    """The organisation's services and doctors by lower-cased name (and service code); ``reload`` after
    a rolled-back batch forgets the rows it created."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.created: dict[str, int] = {"services": 0, "doctors": 0}
        self.reload()

    def reload(self) -> None:
        org = self.ctx.org
        self.services: dict[str, Service] = {}
        self.codes: set[str] = set()
        for service in Service.objects.for_org(org).order_by("-is_active", "code"):
            self.codes.add(service.code)
            for key in (service.code, service.name, *service.name_i18n.values()):
                if key:
                    self.services.setdefault(str(key).strip().lower(), service)
        self.doctors: dict[str, Doctor] = {}
        for doctor in Doctor.objects.for_org(org).order_by("-is_active", "full_name"):
            self.doctors.setdefault(doctor.full_name.strip().lower(), doctor)
        self.linked: set[tuple[object, object]] = set(
            DoctorService.objects.for_org(org).values_list("doctor_id", "service_id")
        )

    def service(self, name: str, price: Decimal | None, duration: int) -> Service:
        key = name.strip().lower()
        found = self.services.get(key)
        if found is not None:
            return found
        code = slugify(name)[:50] or "service"
        if code in self.codes or not code.isascii():
            code = f"{code[:40]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
        service = Service.objects.create(
            organization=self.ctx.org,
            code=code,
            name=name[:200],
            category=ServiceCategory.CONSULTATION,
            duration_minutes=duration or 60,
            room_type=RoomType.TREATMENT,
            price=price if price is not None else Decimal("0.00"),
            currency=self.ctx.currency,
            is_bookable_online=False,
        )
        self.codes.add(code)
        self.services[key] = service
        self.created["services"] += 1
        return service

    def doctor(self, name: str) -> Doctor:
        key = name.strip().lower()
        found = self.doctors.get(key)
        if found is not None:
            return found
        doctor = Doctor.objects.create(organization=self.ctx.org, full_name=name[:200])
        DoctorBranch.objects.create(organization=self.ctx.org, doctor=doctor, branch=self.ctx.branch)
        self.doctors[key] = doctor
        self.created["doctors"] += 1
        return doctor

    def link(self, doctor: Doctor, service: Service) -> None:
        if (doctor.pk, service.pk) not in self.linked:
            DoctorService.objects.create(organization=self.ctx.org, doctor=doctor, service=service)
            self.linked.add((doctor.pk, service.pk))
