"""Reads of the front desk: calls (the API's list, the call log and its live feed, one call's page),
callbacks, checklists, administrators and the weekly review list. Every function takes the
organisation."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.accounts.roles import PERMISSIONS
from clinicflow.acquisition.models import (
    Call,
    CallbackTask,
    CallChecklist,
    CallChecklistItem,
    CallScore,
    CallStatus,
    CallTagging,
    ReviewListEntry,
)
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Branch, Organization
from clinicflow.core.phones import try_normalize
from clinicflow.core.selectors import parse_uuid


def week_of(day: dt.date) -> dt.date:
    """The Monday of the week ``day`` is in: the weekly review list's key."""
    return day - dt.timedelta(days=day.weekday())


@dataclass(frozen=True)
class CallFilter:
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    branch: Branch | None = None
    phone: str = ""
    tag: str = ""


def call_list(*, org: Organization, f: CallFilter | None = None) -> QuerySet[Call]:
    f = f or CallFilter()
    qs: QuerySet[Call] = (
        Call.objects.for_org(org)
        .select_related("patient", "channel", "campaign", "tracking_number", "administrator")
        .prefetch_related(Prefetch("taggings", queryset=CallTagging.objects.for_org(org).order_by("tag")))
    )
    if f.start is not None:
        qs = qs.filter(started_at__gte=f.start)
    if f.end is not None:
        qs = qs.filter(started_at__lt=f.end)
    if f.branch is not None:
        qs = qs.filter(branch=f.branch)
    if f.phone:
        e164 = try_normalize(f.phone, f.branch.country if f.branch else org.country)
        qs = qs.filter(caller_e164=e164) if e164 else qs.filter(caller_raw=f.phone[:40])
    if f.tag:
        qs = qs.filter(Exists(CallTagging.objects.for_org(org).filter(call=OuterRef("pk"), tag=f.tag)))
    return qs.order_by("-started_at", "-id")


def callback_get(*, org: Organization, task_id: object) -> CallbackTask:
    pk = parse_uuid(task_id)
    task: CallbackTask | None = CallbackTask.objects.for_org(org).filter(pk=pk).first() if pk else None
    if task is None:
        raise NotFound("callback not found")
    return task


def review_list(*, org: Organization, week: dt.date) -> QuerySet[ReviewListEntry]:
    qs: QuerySet[ReviewListEntry] = (
        ReviewListEntry.objects.for_org(org)
        .filter(week=week)
        .select_related("call", "call__administrator", "call__branch")
        .order_by("verdict", "call__started_at")
    )
    return qs


# The standard call checklist (seed 004): item code → label. Used until a branch has its own.
STANDARD_CHECKLIST: tuple[tuple[str, str], ...] = (
    ("greeting", "Greets and introduces the clinic"),
    ("services_prices", "Knows the services and prices"),
    ("offers_slot", "Offers a concrete slot"),
    ("books", "Books the visit"),
    ("contact", "Takes the name and confirms the phone"),
)
CALL_LOG_DAYS = 7  # the call log's default window and the live feed's look-back, in days


@dataclass(frozen=True)
class CallLogFilter:
    """Filters of the front-desk call log. ``day`` is a date in the branch's time zone (``None`` = the
    last ``CALL_LOG_DAYS`` days); ``status`` is "answered" (answered or completed), "missed" or ""."""

    day: dt.date | None = None
    status: str = ""
    unique_only: bool = False
    tag: str = ""


def _branch_day_start(branch: Branch, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=branch.tz)


def _call_rows(org: Organization) -> QuerySet[Call]:
    """Calls with everything a call-log row shows, tags prefetched through the org-first index."""
    qs: QuerySet[Call] = (
        Call.objects.for_org(org)
        .select_related("patient", "campaign", "tracking_number", "administrator")
        .prefetch_related(Prefetch("taggings", queryset=CallTagging.objects.for_org(org).order_by("tag")))
    )
    return qs


def _apply_log_filter(qs: QuerySet[Call], f: CallLogFilter) -> QuerySet[Call]:
    if f.status == "answered":
        qs = qs.filter(status__in=[CallStatus.ANSWERED, CallStatus.COMPLETED])
    elif f.status == "missed":
        qs = qs.filter(status=CallStatus.MISSED)
    if f.unique_only:
        qs = qs.filter(is_unique=True)
    if f.tag:
        qs = qs.filter(
            Exists(
                CallTagging.objects.filter(
                    organization_id=OuterRef("organization_id"), call=OuterRef("pk"), tag=f.tag
                )
            )
        )
    return qs


def call_log(
    *, org: Organization, branch: Branch, f: CallLogFilter, now: dt.datetime | None = None
) -> QuerySet[Call]:
    """The branch's calls for the call log, newest first."""
    now = now or timezone.now()
    if f.day is not None:
        start = _branch_day_start(branch, f.day)
        end = _branch_day_start(branch, f.day + dt.timedelta(days=1))
    else:
        today = timezone.localtime(now, branch.tz).date()
        start = _branch_day_start(branch, today - dt.timedelta(days=CALL_LOG_DAYS - 1))
        end = None
    qs = _call_rows(org).filter(branch=branch, started_at__gte=start)
    if end is not None:
        qs = qs.filter(started_at__lt=end)
    return _apply_log_filter(qs, f).order_by("-started_at", "-id")


@dataclass(frozen=True)
class FeedCursor:
    """Position in the live feed: the last (updated_at, id) the page has seen."""

    updated_at: dt.datetime
    call_id: uuid.UUID

    def encode(self) -> str:
        return f"{self.updated_at.astimezone(dt.UTC).isoformat()}|{self.call_id}"

    @classmethod
    def decode(cls, raw: str) -> FeedCursor | None:
        stamp, _, pk = raw.partition("|")
        try:
            at = dt.datetime.fromisoformat(stamp)
        except ValueError:
            return None
        call_id = parse_uuid(pk)
        if at.tzinfo is None or call_id is None:
            return None
        return cls(updated_at=at, call_id=call_id)


def call_feed_cursor(*, org: Organization, branch: Branch, now: dt.datetime | None = None) -> FeedCursor:
    """The cursor of the newest change among the branch's recent calls (or "now" when there is none)."""
    now = now or timezone.now()
    row = (
        Call.objects.for_org(org)
        .filter(branch=branch, started_at__gte=now - dt.timedelta(days=CALL_LOG_DAYS))
        .order_by("-updated_at", "-id")
        .values_list("updated_at", "id")
        .first()
    )
    if row is None:
        return FeedCursor(updated_at=now, call_id=uuid.UUID(int=0))
    return FeedCursor(updated_at=row[0], call_id=row[1])


def call_feed(
    *,
    org: Organization,
    branch: Branch,
    cursor: FeedCursor,
    f: CallLogFilter,
    limit: int = 100,
    now: dt.datetime | None = None,
) -> list[Call]:
    """The branch's recent calls created or changed after ``cursor``, oldest change first."""
    now = now or timezone.now()
    after = Q(updated_at__gt=cursor.updated_at) | Q(updated_at=cursor.updated_at, id__gt=cursor.call_id)
    qs = _call_rows(org).filter(after, branch=branch, started_at__gte=now - dt.timedelta(days=CALL_LOG_DAYS))
    return list(_apply_log_filter(qs, f).order_by("updated_at", "id")[:limit])


def call_for_page(*, org: Organization, call_id: object) -> Call:
    """One call with its branch, attribution, patient, tags and scores (all org-scoped)."""
    pk = parse_uuid(call_id)
    call = (
        _call_rows(org)
        .select_related("branch", "channel", "session")
        .prefetch_related(Prefetch("scores", queryset=CallScore.objects.for_org(org).select_related("item")))
        .filter(pk=pk)
        .first()
        if pk
        else None
    )
    if call is None:
        raise NotFound("call not found")
    return call


@dataclass(frozen=True)
class ChecklistItemRow:
    code: str
    label: str
    pk: uuid.UUID | None = None


def branch_checklist(*, org: Organization, branch: Branch | None) -> CallChecklist | None:
    """The branch's own checklist, else the organisation's default, else ``None`` (nothing stored)."""
    if branch is not None:
        own: CallChecklist | None = (
            CallChecklist.objects.for_org(org).filter(branch=branch).order_by("pk").first()
        )
        if own is not None:
            return own
    default: CallChecklist | None = (
        CallChecklist.objects.for_org(org).filter(branch__isnull=True).order_by("pk").first()
    )
    return default


def checklist_items(*, org: Organization, checklist: CallChecklist) -> list[CallChecklistItem]:
    """The checklist's active items in their order."""
    return list(
        CallChecklistItem.objects.for_org(org)
        .filter(checklist=checklist, is_active=True)
        .order_by("position", "code")
    )


def checklist_items_effective(*, org: Organization, branch: Branch | None) -> list[ChecklistItemRow]:
    """The active items a call of ``branch`` is scored against (the standard list when none is stored)."""
    checklist = branch_checklist(org=org, branch=branch)
    if checklist is None:
        return [ChecklistItemRow(code=c, label=label) for c, label in STANDARD_CHECKLIST]
    return [
        ChecklistItemRow(code=i.code, label=i.label, pk=i.pk)
        for i in checklist_items(org=org, checklist=checklist)
    ]


def call_administrators(*, org: Organization) -> QuerySet[User]:
    """Active staff who can handle calls (owner, manager, front desk)."""
    return User.objects.filter(
        organization=org, is_active=True, role__in=sorted(PERMISSIONS["calls.handle"])
    ).order_by("full_name", "email")


def review_entry_get(*, org: Organization, entry_id: object) -> ReviewListEntry:
    pk = parse_uuid(entry_id)
    row: ReviewListEntry | None = ReviewListEntry.objects.for_org(org).filter(pk=pk).first() if pk else None
    if row is None:
        raise NotFound("review entry not found")
    return row


def review_entry_for_call(*, org: Organization, call: Call) -> ReviewListEntry | None:
    row: ReviewListEntry | None = ReviewListEntry.objects.for_org(org).filter(call=call).first()
    return row


def callbacks_for_log(*, org: Organization, branch: Branch) -> QuerySet[CallbackTask]:
    """The branch's open callbacks, earliest deadline first."""
    qs: QuerySet[CallbackTask] = (
        CallbackTask.objects.for_org(org)
        .filter(branch=branch, done_at__isnull=True)
        .select_related("call")
        .order_by("due_at", "pk")
    )
    return qs
