"""The catalogue: services with prices (and price history), durations and the room type they need."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clinicflow.core.models import Branch, TenantModel
from clinicflow.core.names import TranslatedName, names_field


class ServiceCategory(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    INJECTABLES = "injectables", _("Injectables")
    BOTULINUM = "botulinum", _("Botulinum therapy")
    FILLERS = "fillers", _("Fillers")
    LASER = "laser", _("Laser")
    PEELS = "peels", _("Peels")
    BODY = "body", pgettext_lazy("service category", "Body")
    SURGERY = "surgery", _("Plastic surgery")
    DENTAL = "dental", _("Dental")


class RoomType(models.TextChoices):
    TREATMENT = "treatment", _("Treatment room")
    LASER = "laser", _("Laser room")
    OPERATING = "operating", _("Operating theatre")
    DENTAL = "dental", _("Dental chair")
    CONSULTATION = "consultation", _("Consultation room")


class Service(TranslatedName, TenantModel):
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    name_i18n = names_field()
    category = models.CharField(_("category"), max_length=20, choices=ServiceCategory.choices)
    duration_minutes = models.PositiveIntegerField(_("duration, minutes"))
    buffer_minutes = models.PositiveIntegerField(_("buffer after, minutes"), default=0)
    room_type = models.CharField(_("room type"), max_length=20, choices=RoomType.choices)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    is_first_visit = models.BooleanField(_("first-visit service"), default=False)
    course_sessions = models.PositiveIntegerField(_("sessions in a course"), default=1)
    course_interval_days = models.PositiveIntegerField(_("days between sessions"), default=0)
    follow_on_codes = models.JSONField(_("follow-on service codes"), default=list, blank=True)
    is_active = models.BooleanField(default=True)
    is_bookable_online = models.BooleanField(_("bookable online"), default=True)

    class Meta:
        verbose_name = _("service")
        ordering = ["category", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="service_org_code_uniq")]

    def __str__(self) -> str:
        return self.display_name


class ServicePrice(TenantModel):
    """Price history: the price of a service (optionally per branch) from a date on."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="prices", db_index=False)
    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    valid_from = models.DateField(default=timezone.localdate)

    class Meta:
        ordering = ["valid_from"]
        indexes = [
            models.Index(fields=["organization", "service", "valid_from"], name="price_org_service_idx")
        ]


class ProductLine(TenantModel):
    """A product line (seed 002): a family of services and packaged products run as one product,
    e.g. "Botulinum therapy" or "Laser hair removal"; the marketing calendar plans by it."""

    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=20, choices=ServiceCategory.choices, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("product line")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="productline_org_code_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class Product(TenantModel):
    """A packaged product: a course or bundle of services sold at one package price."""

    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    line = models.ForeignKey(
        ProductLine,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
        db_index=False,
        verbose_name=_("product line"),
    )
    price = models.DecimalField(_("package price"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    valid_days = models.PositiveIntegerField(_("days to use the package"), default=365)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("packaged product")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="product_org_code_uniq")]
        indexes = [models.Index(fields=["organization", "line"], name="product_org_line_idx")]

    def __str__(self) -> str:
        return self.name


class ProductItem(TenantModel):
    """A service in a packaged product, with how many sessions of it the package holds."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="items", db_index=False)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", db_index=False)
    sessions = models.PositiveIntegerField(_("sessions"), default=1)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "product", "service"], name="productitem_uniq")
        ]
