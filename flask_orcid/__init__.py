"""flask-orcid: ORCID for Flask thesis systems and institutional repositories.

Three layers, imports only downwards: :mod:`flask_orcid.protocol` (speaking ORCID, no Flask),
:mod:`flask_orcid.sync` (storage and the engine that runs without a request) and the Flask
layer in this package's top modules, with the :class:`ORCID` extension as composition root.
:mod:`flask_orcid.emulator` is a separate local ORCID registry.
"""

from __future__ import annotations

from .display import orcid_uri_for
from .errors import *  # noqa: F403
from .errors import __all__ as _errors_all
from .extension import ORCID
from .forms import ORCIDIdValidator
from .prefill import HostInstitution, prefill_data, prefill_form, prefill_sources
from .protocol.client import BulkResult, CallInfo, ORCIDClient
from .protocol.endpoints import Endpoints, endpoints
from .protocol.identifiers import (
    doi_key,
    external_id_key,
    is_valid_orcid_id,
    normalize_doi,
    normalize_handle,
    orcid_checksum,
    orcid_uri,
    parse_orcid_id,
)
from .protocol.model import (
    Affiliation,
    AffiliationSummary,
    Contributor,
    Email,
    ErrorInfo,
    ExternalId,
    FuzzyDate,
    Organization,
    Person,
    Record,
    Work,
    WorkSummary,
    item_from_dict,
    works_bulk_xml,
)
from .protocol.ratelimit import RateLimiter
from .protocol.xml_reader import (
    parse_affiliation,
    parse_affiliations,
    parse_bulk_response,
    parse_error,
    parse_person,
    parse_record,
    parse_work,
    parse_works,
    parse_works_bulk_read,
)
from .readiness import CheckTargets
from .signals import (
    invitation_accepted,
    invitation_declined,
    item_approved,
    item_declined,
    item_failed,
    item_removed_by_researcher,
    item_synced,
    orcid_connected,
    orcid_denied,
    orcid_disconnected,
)
from .state import UserInfo
from .sync.campaign_rows import Graduate
from .sync.directory import InstitutionPerson
from .sync.reconcile import SyncSummary
from .sync.record_reader import read_for_prefill
from .sync.worker import Deliverer, PassResult

__version__ = "0.1.0"

__all__ = [
    "Endpoints",
    "endpoints",
    # API client
    "BulkResult",
    "CallInfo",
    "ORCIDClient",
    "RateLimiter",
    *_errors_all,
    # extension
    "ORCID",
    "UserInfo",
    "CheckTargets",
    "orcid_connected",
    "orcid_denied",
    "orcid_disconnected",
    "invitation_accepted",
    "invitation_declined",
    # the institution's people and backfill campaigns
    "Graduate",
    "InstitutionPerson",
    # identifiers
    "ORCIDIdValidator",
    "doi_key",
    "external_id_key",
    "is_valid_orcid_id",
    "normalize_doi",
    "normalize_handle",
    "orcid_checksum",
    "orcid_uri",
    "parse_orcid_id",
    # model
    "Affiliation",
    "AffiliationSummary",
    "Contributor",
    "Email",
    "ErrorInfo",
    "ExternalId",
    "FuzzyDate",
    "Organization",
    "Person",
    "Record",
    "Work",
    "WorkSummary",
    "item_from_dict",
    "parse_affiliation",
    "parse_affiliations",
    "parse_bulk_response",
    "parse_error",
    "parse_person",
    "parse_record",
    "parse_work",
    "parse_works",
    "parse_works_bulk_read",
    "works_bulk_xml",
    # outbox and delivery
    "Deliverer",
    "PassResult",
    "SyncSummary",
    "item_approved",
    "item_declined",
    "item_failed",
    "item_removed_by_researcher",
    "item_synced",
    # display and prefill
    "orcid_uri_for",
    "HostInstitution",
    "prefill_data",
    "prefill_sources",
    "prefill_form",
    "read_for_prefill",
]
