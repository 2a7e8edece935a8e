"""The patient card's timeline and side blocks: an extension point the higher apps fill.

``patients`` is a low layer: it never imports booking, acquisition or messaging. Each app that has
something to say about a patient names a ``TimelineSource`` on its ``AppConfig``
(``timeline = "clinicflow.booking.timeline.source"``); ``sources()`` finds them the way the
navigation finds ``nav``. A source declares its kinds of event, each with the permissions that show
it (any one of them), an ``events`` function — one or two org-first indexed queries per kind, newest
first, at most ``query.limit`` rows of the kinds asked for before ``query.before`` — and optionally
a ``card`` function for the side blocks (upcoming visits, open tasks, figures, actions).

The registry, not the source, decides which kinds a viewer is asked for, so a source never runs a
query for a kind the role may not see. A source marks an event ``sensitive`` when it carries
something of clinical character (a service's name, a clinical message's text); the registry drops
such an event for a viewer without ``patients.view_clinical`` — a source must give such viewers the
plain version of the row instead (the appointment without its service).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby

from django.apps import apps
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.module_loading import import_string

from clinicflow.accounts.breakglass import PatientAccess
from clinicflow.accounts.models import User
from clinicflow.core.models import Organization
from clinicflow.patients.models import Patient

CLINICAL = "patients.view_clinical"
PAGE_SIZE = 50
MAX_PAGE = 200

Label = str | Promise


@dataclass(frozen=True)
class Viewer:
    """Who looks at the card: the user and their access to this patient (break-glass included)."""

    user: User
    access: PatientAccess

    def can(self, permission: str) -> bool:
        """A patient permission as the card's access decides it (a grant adds the clinical ones);
        any other permission as the role holds it, and nothing on a card that does not open."""
        if permission.startswith("patients."):
            return self.access.can(permission)
        return self.access.opens and self.user.has_perm_cf(permission)

    @property
    def clinical(self) -> bool:
        return self.can(CLINICAL)


@dataclass(frozen=True)
class TimelineEvent:
    """One row of the timeline. ``at`` is aware (UTC from the database); money is exact."""

    at: dt.datetime
    kind: str  # one of the source's kinds: the filter and the styling key
    title: str
    detail: str = ""
    status: str = ""  # a short state label (booked, missed, sent ...)
    tone: str = "secondary"  # a Bootstrap colour for the status badge: success, danger, warning, info ...
    amount: Decimal | None = None
    currency: str = ""
    url: str = ""
    sensitive: bool = False  # clinical character: shown only to a viewer with patients.view_clinical


@dataclass(frozen=True)
class Kind:
    label: Label
    permissions: tuple[str, ...]  # a viewer holding any one of them sees events of this kind
    icon: str = ""  # a styling hint (an icon name of the UI kit)


@dataclass(frozen=True)
class EventQuery:
    org: Organization
    patient: Patient
    viewer: Viewer
    kinds: frozenset[str]  # the source's kinds the viewer may see and asked for
    before: dt.datetime | None = None  # only events strictly before this moment
    limit: int = PAGE_SIZE + 1


@dataclass(frozen=True)
class CardItem:
    """A line of a side block: an upcoming visit, an open task or callback."""

    at: dt.datetime
    title: str
    detail: str = ""
    url: str = ""
    tone: str = "secondary"
    overdue: bool = False
    sensitive: bool = False


@dataclass(frozen=True)
class Figure:
    """A number of the card's summary; ``currency`` makes it money, ``percent`` a fraction shown as a
    percentage, ``places`` a decimal."""

    label: Label
    value: Decimal | int
    currency: str = ""
    places: int = 0
    percent: bool = False
    order: int = 50  # position among the figures (lower first)


@dataclass(frozen=True)
class Action:
    label: Label
    url: str
    primary: bool = False


@dataclass
class CardFacts:
    upcoming: list[CardItem] = field(default_factory=list)
    tasks: list[CardItem] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    upcoming_known: bool = False  # a source told the upcoming visits (an empty list means none)

    def extend(self, other: CardFacts) -> None:
        self.upcoming_known = self.upcoming_known or other.upcoming_known
        self.upcoming += other.upcoming
        self.tasks += other.tasks
        self.figures += other.figures
        self.actions += other.actions


@dataclass(frozen=True)
class TimelineSource:
    kinds: Mapping[str, Kind]
    events: Callable[[EventQuery], list[TimelineEvent]]
    card: Callable[[EventQuery], CardFacts] | None = None


@functools.cache
def sources() -> tuple[TimelineSource, ...]:
    """Every installed app's ``AppConfig.timeline`` source, in INSTALLED_APPS order."""
    found: list[TimelineSource] = []
    for config in apps.get_app_configs():
        path = getattr(config, "timeline", None)
        if path:
            source = import_string(path)
            if not isinstance(source, TimelineSource):
                raise TypeError(f"{config.name}.timeline ({path}) is not a TimelineSource")
            found.append(source)
    return tuple(found)


def _visible(viewer: Viewer, kind: Kind) -> bool:
    return any(viewer.can(p) for p in kind.permissions)


def kinds_for(viewer: Viewer) -> dict[str, Kind]:
    """The kinds of event the viewer may see, in the sources' order (the filter's choices)."""
    return {name: k for s in sources() for name, k in s.kinds.items() if _visible(viewer, k)}


@dataclass(frozen=True)
class TimelinePage:
    events: list[TimelineEvent]
    next_before: dt.datetime | None  # the cursor of the next page ("show more"), None at the end
    kinds: dict[str, Kind]  # what the viewer may filter by


def _allowed(event: TimelineEvent, kinds: Mapping[str, Kind], clinical: bool) -> bool:
    return event.kind in kinds and (clinical or not event.sensitive)


def timeline_page(
    *,
    org: Organization,
    patient: Patient,
    viewer: Viewer,
    kinds: Iterable[str] = (),
    before: dt.datetime | None = None,
    limit: int = PAGE_SIZE,
) -> TimelinePage:
    """One page of the patient's timeline, newest first: the ``limit`` latest events before
    ``before`` of the ``kinds`` asked for (all the viewer may see when none), merged from every source.

    Each source is asked for ``limit + 1`` rows, so whether more remain is known without a count;
    events sharing the last kept moment are all kept, so the next page (strictly before it) loses none.
    """
    limit = max(1, min(limit, MAX_PAGE))
    visible = kinds_for(viewer)
    wanted = {k for k in kinds if k in visible}
    shown = {k: v for k, v in visible.items() if not wanted or k in wanted}
    clinical = viewer.clinical
    merged: list[TimelineEvent] = []
    for source in sources():
        asked = frozenset(k for k in source.kinds if k in shown)
        if not asked:
            continue
        query = EventQuery(
            org=org, patient=patient, viewer=viewer, kinds=asked, before=before, limit=limit + 1
        )
        merged += (e for e in source.events(query) if _allowed(e, shown, clinical))
    merged.sort(key=lambda e: e.at, reverse=True)
    page = merged[:limit]
    rest = merged[limit:]
    while rest and page and rest[0].at == page[-1].at:
        page.append(rest.pop(0))
    return TimelinePage(events=page, next_before=page[-1].at if rest and page else None, kinds=visible)


def card_facts(*, org: Organization, patient: Patient, viewer: Viewer) -> CardFacts:
    """The side blocks of the card from every source with a ``card`` function, each source told the
    kinds the viewer may see (it shows a block only for those)."""
    visible = kinds_for(viewer)
    clinical = viewer.clinical
    facts = CardFacts()
    for source in sources():
        asked = frozenset(k for k in source.kinds if k in visible)
        if source.card is None or not asked:
            continue
        facts.extend(source.card(EventQuery(org=org, patient=patient, viewer=viewer, kinds=asked)))
    facts.upcoming = sorted((i for i in facts.upcoming if clinical or not i.sensitive), key=lambda i: i.at)
    facts.tasks = sorted((i for i in facts.tasks if clinical or not i.sensitive), key=lambda i: i.at)
    facts.figures.sort(key=lambda f: f.order)
    return facts


def by_day(events: Sequence[TimelineEvent], tz: dt.tzinfo) -> list[tuple[dt.date, list[TimelineEvent]]]:
    """Events (newest first) grouped by their day on the clinic's clock."""
    return [(day, list(group)) for day, group in groupby(events, key=lambda e: e.at.astimezone(tz).date())]


SENTINEL = "00000000-0000-0000-0000-00000000cafe"


def url_maker(name: str) -> Callable[[object], str]:
    """``reverse(name, args=[pk])`` for many rows at the cost of one ``reverse``: the URL is built
    once around a sentinel id and filled in per row."""
    template = reverse(name, args=[SENTINEL])
    head, _, tail = template.partition(SENTINEL)
    return lambda pk: f"{head}{pk}{tail}"


def parse_before(value: str | None) -> dt.datetime | None:
    """The ``before=`` cursor: an ISO 8601 moment (a naive one is UTC); None when empty or unreadable."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
