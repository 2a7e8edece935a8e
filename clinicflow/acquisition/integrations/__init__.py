"""Telephony integrations: the webhook endpoints providers post calls to (created with a secret URL,
disabled), the page that sets them up with the website script's settings, and the deliveries they
refused (dead letters) for staff to replay or discard."""
