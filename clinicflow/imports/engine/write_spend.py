"""Writing a batch of ad spend rows: channels matched by code or name (never created), campaigns
matched or created on the channel, one row per day and campaign (or channel) updated in place."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.utils import timezone

from clinicflow.acquisition.models import AdSpend, Campaign, Channel
from clinicflow.imports.engine.bulk import BatchResult, Issue, known, remember
from clinicflow.imports.engine.clean import Clean, Ctx
from clinicflow.imports.models import ImportJob


def write_spend(ctx: Ctx, rows: Sequence[Clean], *, job: ImportJob | None) -> BatchResult:
    result = BatchResult()
    org = ctx.org
    done = known(org=org, source=ctx.source, kind="ad_spend", ids=[r.source_id for r in rows])
    channels: dict[str, Channel] = {}
    for known_channel in Channel.objects.for_org(org):
        names = (known_channel.code, known_channel.name, *known_channel.name_i18n.values())
        for key in names:
            channels.setdefault(str(key).strip().lower(), known_channel)
    campaigns = {(c.channel_id, c.name.lower()): c for c in Campaign.objects.for_org(org)}
    pairs: list[tuple[str, uuid.UUID]] = []
    for row in rows:
        if row.source_id in done:
            result.unchanged += 1
            continue
        values = row.values
        channel = channels.get(values["channel"].lower())
        if channel is None:
            result.issues.append(
                Issue(row.line, "channel", "is not a channel of this organisation", values["channel"])
            )
            continue
        campaign = None
        if values["campaign"]:
            campaign = campaigns.get((channel.pk, values["campaign"].lower()))
            if campaign is None:
                campaign = Campaign.objects.create(
                    organization=org, channel=channel, name=values["campaign"], branch=ctx.branch
                )
                campaigns[(channel.pk, campaign.name.lower())] = campaign
                result.extra["campaigns"] = result.extra.get("campaigns", 0) + 1
        spend = (
            AdSpend.objects.for_org(org)
            .filter(date=values["date"], channel=channel, campaign=campaign)
            .first()
        )
        fields = {
            "spend": values["spend"],
            "currency": ctx.currency,
            "impressions": values["impressions"],
            "clicks": values["clicks"],
        }
        if spend is None:
            spend = AdSpend.objects.create(
                organization=org,
                date=values["date"],
                channel=channel,
                campaign=campaign,
                branch=ctx.branch,
                **fields,
            )
            result.created += 1
        elif any(getattr(spend, k) != x for k, x in fields.items()):
            for k, x in fields.items():
                setattr(spend, k, x)
            spend.imported_at = timezone.now()
            spend.save()
            result.updated += 1
        else:
            result.unchanged += 1
        done[row.source_id] = spend.pk
        pairs.append((row.source_id, spend.pk))
    remember(org=org, source=ctx.source, kind="ad_spend", job=job, pairs=pairs)
    return result
