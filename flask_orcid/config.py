"""Every ``ORCID_*`` setting the extension reads, with its default.

``ORCID.init_app`` applies them with ``setdefault``; docs/configuration.md lists the same keys.
ORCID's hosts are not here: they come from :mod:`flask_orcid.protocol.endpoints`.
"""

from __future__ import annotations

from .protocol.endpoints import DEFAULT_EMULATOR_URL, ENVIRONMENTS, Endpoints, endpoints

__all__ = ["DEFAULTS", "DEFAULT_EMULATOR_URL", "ENVIRONMENTS", "Endpoints", "endpoints"]

#: Every setting the extension reads, with its default. ``init_app`` applies them with
#: ``setdefault``; the README's configuration reference lists the same keys.
DEFAULTS: dict[str, object] = {
    "ORCID_CLIENT_ID": None,
    "ORCID_CLIENT_SECRET": None,
    "ORCID_ENVIRONMENT": "production",
    "ORCID_EMULATOR_URL": DEFAULT_EMULATOR_URL,
    "ORCID_SCOPES": "/authenticate /read-limited /activities/update",
    "ORCID_TOKEN_KEYS": None,
    "ORCID_SUPPORT_EMAIL": None,
    "ORCID_URL_PREFIX": "/orcid",
    # hosts with Flask-Login and no current_user_loader: the attributes of current_user that
    # prefill ORCID's sign-in screen and pick the pages' language (None: not sent)
    "ORCID_USER_GIVEN_NAMES_ATTR": "given_names",
    "ORCID_USER_FAMILY_NAMES_ATTR": "family_names",
    "ORCID_USER_EMAIL_ATTR": "email",
    "ORCID_USER_LOCALE_ATTR": "locale",
    # seconds: (connect, read)
    "ORCID_CONNECT_TIMEOUT": 5.0,
    "ORCID_READ_TIMEOUT": 30.0,
    # ORCID's Member API limits (API-FACTS §8)
    "ORCID_RATE_LIMIT": 24.0,
    "ORCID_RATE_BURST": 40,
    "ORCID_MAX_RETRIES": 3,
    # where the one rate budget of the client id lives, shared by every process and host:
    # "database" (the outbox's), a "redis://..." URL, or "memory" (this process only)
    "ORCID_RATE_BUDGET": "database",
    # seconds an unused ``state`` stays valid between /connect and /callback
    "ORCID_STATE_MAX_AGE": 600,
    # outbox delivery: "off" (run `flask orcid deliver`), "thread" (in the web process) or
    # "celery" (Celery tasks: flask_orcid.tasks.init_celery)
    "ORCID_DELIVERY": "off",
    "ORCID_DELIVERY_INTERVAL": 5.0,
    # the researcher's say before an item is first sent: "optional" (items go unless the
    # researcher declines them first) or "required" (items wait for their approval)
    "ORCID_APPROVAL": "optional",
    # with "celery": at most one wake-up task per this many seconds per process
    "ORCID_CELERY_WAKE_SECONDS": 0.5,
    # transient failures are retried for ever, with exponential backoff up to
    # ORCID_RETRY_MAX_SECONDS (ORCID_MAX_ATTEMPTS is kept for compatibility, unused)
    "ORCID_MAX_ATTEMPTS": 8,
    "ORCID_RETRY_BASE_SECONDS": 30.0,
    "ORCID_RETRY_MAX_SECONDS": 3600.0,
    # a worker's claim on rows expires after this long (a dead worker's rows come back)
    "ORCID_WORKER_LEASE_SECONDS": 300.0,
    # the worker's client retries nothing itself: the outbox owns the backoff
    "ORCID_WORKER_MAX_RETRIES": 0,
    # calls to ORCID a delivery pass keeps in flight at once (CLI, --loop, background thread)
    "ORCID_WORKER_CONCURRENCY": 8,
    # the circuit breaker: this many transient failures in a row pause the whole worker,
    # first for BASE seconds, doubling while ORCID stays down, at most MAX seconds
    "ORCID_BREAKER_THRESHOLD": 5,
    "ORCID_BREAKER_BASE_SECONDS": 5.0,
    "ORCID_BREAKER_MAX_SECONDS": 300.0,
    # burst tokens the worker leaves unused, so jitter never pushes ORCID past its burst
    "ORCID_WORKER_BURST_MARGIN": 4,
    # delivery events (the audit log) older than this many days are deleted; None keeps all
    "ORCID_EVENT_RETENTION_DAYS": 90,
    # signs webhook callback URLs; webhooks are refused while unset
    "ORCID_WEBHOOK_SECRET": None,
    # the site's public root for webhook callbacks (else SERVER_NAME)
    "ORCID_WEBHOOK_BASE_URL": None,
    # register a webhook for each new connection from the delivery worker (premium members)
    "ORCID_WEBHOOK_AUTO_REGISTER": False,
    # seconds a check that ORCID still accepts a stored token is trusted (GET /person)
    "ORCID_TOKEN_CHECK_SECONDS": 300.0,
    # seconds a check that ORCID's sign-in page answers is trusted (before /connect redirects)
    "ORCID_REACHABILITY_SECONDS": 60.0,
    # the ORCID member logo ORCID gave you (a URL of your own copy); shown on the connection
    # page and in the "about ORCID" text when set. No ORCID artwork ships with the extension.
    "ORCID_MEMBER_LOGO_URL": None,
    "ORCID_MEMBER_LOGO_ALT": None,
    # the institution's email domains ("example.edu", a list or a space-separated string):
    # prefill then reads the member /summary and trusts an affiliation named like the
    # institution when the researcher has a verified email there (trust markers)
    "ORCID_INSTITUTION_DOMAINS": None,
    # ORCID granted this client the /premium-notification scope (premium members): only then
    # may the site put permission requests in researchers' ORCID inboxes
    "ORCID_PREMIUM_NOTIFICATIONS": False,
    # days the link of an inbox permission request stays usable
    "ORCID_PERMISSION_REQUEST_DAYS": 30,
    # invitations (issue 15): days an emailed link works; the site's public root for links
    # built without a request (else ORCID_WEBHOOK_BASE_URL, then SERVER_NAME); the site's name
    # in the emails and pages (else the host name)
    "ORCID_INVITATION_DAYS": 14,
    "ORCID_EXTERNAL_URL": None,
    "ORCID_SITE_NAME": None,
    # email (flask_orcid.mail): "smtp", or "folder" (messages kept as .eml files in
    # ORCID_MAIL_FOLDER, default <instance>/mailbox: the demo, no mail server needed)
    "ORCID_MAIL_BACKEND": "smtp",
    "ORCID_MAIL_HOST": "localhost",
    "ORCID_MAIL_PORT": 25,
    "ORCID_MAIL_USE_STARTTLS": False,
    "ORCID_MAIL_USE_SSL": False,
    "ORCID_MAIL_USERNAME": None,
    "ORCID_MAIL_PASSWORD": None,
    "ORCID_MAIL_SENDER": None,
    "ORCID_MAIL_TIMEOUT": 10.0,
    "ORCID_MAIL_FOLDER": None,
    # the integration check (`flask orcid check`, docs/integration-check.md) runs at
    # ORCID_EXTERNAL_URL (else SERVER_NAME, else http://localhost) and reads, besides the pages
    # of @orcid.check_targets: {"connect": url, "form": url, "public": [urls], "exports": [urls]}
    "ORCID_CHECK_URLS": None,
    # the institution (issue 16): the organization of the degrees a campaign adds, and what
    # the people page asks ORCID's search for (record holders who list its ROR id, its name or
    # an email at ORCID_INSTITUTION_DOMAINS, above)
    "ORCID_INSTITUTION_NAME": None,
    "ORCID_INSTITUTION_CITY": None,
    "ORCID_INSTITUTION_REGION": None,
    "ORCID_INSTITUTION_COUNTRY": None,
    "ORCID_INSTITUTION_ROR": None,
    # at most this many record holders are read from ORCID's search for the people page
    "ORCID_INSTITUTION_SEARCH_LIMIT": 1000,
    # backfill campaigns: days between reminders and how many at most; a claim on a person
    # being emailed lasts this long (a run that died is settled after it); an email the mail
    # server could not take is tried this many times, first after RETRY_SECONDS, doubling
    "ORCID_CAMPAIGN_REMINDER_DAYS": 7.0,
    "ORCID_CAMPAIGN_MAX_REMINDERS": 2,
    "ORCID_CAMPAIGN_SEND_LEASE_SECONDS": 600.0,
    "ORCID_CAMPAIGN_MAX_SEND_ATTEMPTS": 5,
    "ORCID_CAMPAIGN_RETRY_SECONDS": 300.0,
}
