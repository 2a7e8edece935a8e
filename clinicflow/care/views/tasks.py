"""The task list (a person's or a role's: today / overdue / upcoming / done), with the call script,
the patient card one click away and the outcome form; the missed-call callbacks of the front desk
are listed beside, each linking to its call's page where its own outcome is recorded."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.accounts.roles import Role
from clinicflow.care.models import Outcome
from clinicflow.care.selectors import followups as sel
from clinicflow.care.services import followups as svc
from clinicflow.core.errors import DomainError
from clinicflow.core.selectors import branch_list, branch_named
from clinicflow.core.web import flash_error, get_or_404, render_in_zone

PAGE = 200


def task_filter(request: AuthedRequest) -> tuple[sel.TaskFilter, str]:
    """The list asked for: ``who`` = ``me`` (default), ``all`` or a role; ``view``; ``branch``."""
    view = request.GET.get("view", "today")
    view = view if view in sel.VIEWS else "today"
    who = request.GET.get("who", "me")
    branch = None
    try:
        branch = branch_named(org=request.org, branch_id=request.GET.get("branch") or None)
    except DomainError:
        branch = None
    if who == "all":
        return sel.TaskFilter(view=view, branch=branch), who
    if who in Role.values:
        return sel.TaskFilter(view=view, role=who, branch=branch), who
    return sel.TaskFilter(view=view, user=request.user, branch=branch), "me"


@require_GET
@require_perm("tasks.view")
def task_list(request: AuthedRequest) -> HttpResponse:
    f, who = task_filter(request)
    now = timezone.now()
    tasks = list(sel.task_list(org=request.org, f=f, now=now)[:PAGE])
    counts = sel.task_counts(org=request.org, f=f, now=now)
    callbacks = sel.open_callbacks(org=request.org, f=f, now=now)
    ctx = {
        "tasks": tasks,
        "callbacks": callbacks,
        "counts": counts,
        "view": f.view,
        "views": [(v, label, counts[v]) for v, label in _view_labels().items()],
        "who": who,
        "roles": Role.choices,
        "branches": branch_list(org=request.org),
        "branch": f.branch,
        "outcomes": Outcome.choices,
        "query": urlencode(
            {k: v for k, v in (("who", who), ("branch", str(f.branch.pk) if f.branch else "")) if v}
        ),
    }
    return render_in_zone(request, "care/tasks.html", ctx, branch=f.branch)


def _view_labels() -> dict[str, str]:
    return {"today": _("Today"), "overdue": _("Overdue"), "upcoming": _("Upcoming"), "done": _("Done")}


@require_POST
@require_perm("tasks.view", audit_object="followup_task")
def task_outcome(request: AuthedRequest, task_id: str) -> HttpResponse:
    task = get_or_404(sel.task_get, org=request.org, task_id=task_id)
    try:
        svc.task_outcome_record(
            org=request.org,
            actor=request.user,
            task=task,
            outcome=request.POST.get("outcome", ""),
            reason=request.POST.get("reason", ""),
            request=request,
        )
        messages.success(request, _("Outcome recorded."))
    except DomainError as exc:
        flash_error(request, exc)
    back = request.POST.get("back", "")
    url = reverse("care:tasks")
    return redirect(f"{url}?{back}" if back and "//" not in back and "\\" not in back else url)
