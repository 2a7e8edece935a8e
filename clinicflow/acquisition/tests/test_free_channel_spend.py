"""A channel marked free has no spend: the import refuses spend on it naming the field, a channel with
spend cannot be marked free, and the channel report shows none for a free channel."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from clinicflow.acquisition import defaults
from clinicflow.acquisition.marketing import services, spend_import
from clinicflow.acquisition.models import AdSpend, ChannelKind
from clinicflow.analytics.reports import acquisition as acq
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.money import Money

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 3, 2)


def _row(channel: Any, amount: str) -> services.SpendRow:
    return services.SpendRow(line=2, date=DAY, channel=channel, campaign=None, spend=Money.of(amount, "RUB"))


def test_the_import_refuses_spend_on_a_free_channel_naming_the_field(org: Any) -> None:
    organic = defaults.channel_for_code(org=org, code="organic")
    assert organic.kind == ChannelKind.FREE
    with pytest.raises(ValidationFailed) as refused:
        services.ad_spend_import(org=org, actor=None, rows=[_row(organic, "500")])
    assert refused.value.fields == {"channel": ["line 2: SEO / organic is a free channel and has no spend"]}
    assert not AdSpend.objects.for_org(org).exists()
    # zero spend (impressions only) is no spend
    services.ad_spend_import(org=org, actor=None, rows=[_row(organic, "0")])
    assert AdSpend.objects.for_org(org).count() == 1


def test_the_preview_marks_a_free_channels_spend_row(org: Any) -> None:
    defaults.channels_ensure(org=org)
    table = spend_import.Table(
        headers=["date", "channel", "spend"],
        rows=[(2, ["2025-03-02", "organic", "500"]), (3, ["2025-03-02", "search_ads", "100"])],
    )
    preview = spend_import.parse(org=org, table=table, mapping={"date": 0, "channel": 1, "spend": 2})
    assert [(e.line, e.field, e.code) for e in preview.errors] == [(2, "channel", "free_channel")]
    assert [r.line for r in preview.rows] == [3]


def test_a_channel_with_spend_cannot_be_marked_free(org: Any) -> None:
    search = defaults.channel_for_code(org=org, code="search_ads")
    services.ad_spend_import(org=org, actor=None, rows=[_row(search, "700")])
    with pytest.raises(ValidationFailed) as refused:
        services.channel_update(org=org, actor=None, channel=search, name=search.name, kind=ChannelKind.FREE)
    assert list(refused.value.fields) == ["kind"]
    search.refresh_from_db()
    assert search.kind == ChannelKind.PAID


def test_the_report_shows_no_spend_for_a_free_channel(org: Any) -> None:
    organic = defaults.channel_for_code(org=org, code="organic")
    search = defaults.channel_for_code(org=org, code="search_ads")
    for channel in (organic, search):  # stored before the rule (or written in bulk)
        AdSpend.objects.create(
            organization=org, date=DAY, channel=channel, spend=Decimal("300"), currency="RUB"
        )
    rows = {r["code"]: r for r in acq.acquisition_rows(org=org, date_from=DAY, date_to=DAY)}
    assert Decimal(str(rows["search_ads"]["spend"])) == Decimal("300")
    assert "organic" not in rows or not rows["organic"]["spend"]
