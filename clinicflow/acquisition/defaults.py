"""Per-organisation defaults created on first use: the standard channels and the tracking settings."""

from __future__ import annotations

from clinicflow.acquisition.models import Channel, ChannelCode, ChannelKind, TrackingSettings
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import Organization

DEFAULT_CHANNEL_NAMES = {
    ChannelCode.SEARCH_ADS: ("Search ads", ChannelKind.PAID),
    ChannelCode.SOCIAL_ADS: ("Social ads", ChannelKind.PAID),
    ChannelCode.ORGANIC: ("SEO / organic", ChannelKind.FREE),
    ChannelCode.AGGREGATOR: ("Aggregators", ChannelKind.PAID),
    ChannelCode.REFERRAL: ("Referral", ChannelKind.FREE),
    ChannelCode.OFFLINE: ("Offline ads", ChannelKind.OFFLINE),
    ChannelCode.DIRECT: ("Direct / unknown", ChannelKind.FREE),
}
# the default names in the other interface languages (stored as the channel's translations)
DEFAULT_CHANNEL_TRANSLATIONS = {
    ChannelCode.SEARCH_ADS: {"ru": "Контекстная реклама", "zh-hans": "搜索广告"},
    ChannelCode.SOCIAL_ADS: {"ru": "Реклама в соцсетях", "zh-hans": "社交媒体广告"},
    ChannelCode.ORGANIC: {"ru": "SEO / органический поиск", "zh-hans": "SEO / 自然搜索"},
    ChannelCode.AGGREGATOR: {"ru": "Агрегаторы", "zh-hans": "点评平台"},
    ChannelCode.REFERRAL: {"ru": "Рекомендации", "zh-hans": "朋友推荐"},
    ChannelCode.OFFLINE: {"ru": "Офлайн-реклама", "zh-hans": "线下广告"},
    ChannelCode.DIRECT: {"ru": "Прямые обращения / неизвестно", "zh-hans": "直接访问 / 未知"},
}


def channel_for_code(*, org: Organization, code: str) -> Channel:
    """The organisation's channel with this code, created with a default name on first use."""
    if code not in ChannelCode.values:
        raise ValidationFailed.field("channel", f"must be one of {', '.join(ChannelCode.values)}")
    channel = Channel.objects.for_org(org).filter(code=code).first()
    if channel is None:
        name, kind = DEFAULT_CHANNEL_NAMES[ChannelCode(code)]
        names = DEFAULT_CHANNEL_TRANSLATIONS[ChannelCode(code)]
        channel, _ = Channel.objects.get_or_create(
            organization=org, code=code, defaults={"name": name, "kind": kind, "name_i18n": names}
        )
    return channel


def channels_ensure(*, org: Organization) -> dict[str, Channel]:
    return {code: channel_for_code(org=org, code=code) for code in ChannelCode.values}


def tracking_settings(*, org: Organization) -> TrackingSettings:
    row = TrackingSettings.objects.for_org(org).first()
    if row is None:
        row, _ = TrackingSettings.objects.get_or_create(organization=org)
    return row
