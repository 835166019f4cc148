"""An OAI-PMH 2.0 data provider at ``/oai`` (GET and POST): every public thesis, withdrawn ones
as deleted records (``deletedRecord`` persistent), in ``oai_dc``, ``oai_etdms`` and ``datacite``.

Sets: ``degree:<code>`` and ``department:<slug>`` (and their parents ``degree`` and
``department``). Datestamps are each thesis' ``updated_at`` to the second (UTC); changes to the
people on a thesis touch it (models.py). Resumption tokens are stateless: signed, expiring,
they carry the request and the last identifier sent. See docs/exports.md.
"""

from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, Response, current_app, request, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from lxml import etree
from werkzeug.datastructures import MultiDict

from . import oai_sets
from .db import db
from .models import WITHDRAWN, Thesis
from .oai_formats import FORMATS
from .xmltext import clean

bp = Blueprint("oai", __name__)

OAI = "http://www.openarchives.org/OAI/2.0/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
TOKEN_SALT = "oai-pmh-resumption-token"

#: verb -> (required arguments, optional arguments, accepts an exclusive resumptionToken)
VERBS: dict[str, tuple[frozenset[str], frozenset[str], bool]] = {
    "Identify": (frozenset(), frozenset(), False),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"}), False),
    "ListSets": (frozenset(), frozenset(), True),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset(), False),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}), True),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}), True),
}
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
#: OAI-PMH.xsd's metadataPrefixType and setSpecType
_PREFIX = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")


class OAIError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _e(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    child = etree.SubElement(parent, f"{{{OAI}}}{tag}", {k: clean(v) or "" for k, v in attrs.items()})
    child.text = clean(text)
    return child


def stamp(moment: dt.datetime) -> str:
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def namespace() -> str:
    configured = str(current_app.config.get("REPOSITORY_OAI_NAMESPACE") or "")
    return configured or request.host.split(":")[0]


def oai_identifier(thesis: Thesis) -> str:
    return f"oai:{namespace()}:etd/{thesis.id}"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def _token_seconds() -> int:
    return int(float(current_app.config["REPOSITORY_OAI_TOKEN_HOURS"]) * 3600)


# --- requests -----------------------------------------------------------------------------


def _arguments() -> MultiDict[str, str]:
    return request.form if request.method == "POST" else request.args


def check_arguments(args: MultiDict[str, str]) -> tuple[str, dict[str, str]]:
    """The verb and its arguments, or badVerb / badArgument (OAI-PMH 2.0 §3.6)."""
    verbs = args.getlist("verb")
    if len(verbs) != 1 or verbs[0] not in VERBS:
        raise OAIError("badVerb", "The verb is missing, repeated or not an OAI-PMH verb.")
    verb = verbs[0]
    required, optional, exclusive = VERBS[verb]
    given = {key: args.getlist(key) for key in args if key != "verb"}
    repeated = sorted(key for key, values in given.items() if len(values) > 1)
    if repeated:
        raise OAIError("badArgument", f"Repeated argument: {', '.join(repeated)}.")
    values = {key: vals[0] for key, vals in given.items()}
    allowed = required | optional | ({"resumptionToken"} if exclusive else frozenset())
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise OAIError("badArgument", f"Illegal argument for {verb}: {', '.join(unknown)}.")
    if "resumptionToken" in values:
        if len(values) > 1:
            raise OAIError("badArgument", "resumptionToken is an exclusive argument.")
    elif not required <= set(values):
        missing = ", ".join(sorted(required - set(values)))
        raise OAIError("badArgument", f"Missing argument for {verb}: {missing}.")
    if "metadataPrefix" in values and not _PREFIX.fullmatch(values["metadataPrefix"]):
        raise OAIError("badArgument", "The metadataPrefix has characters OAI-PMH does not allow.")
    _check_dates(values)
    return verb, values


def _parse_date(value: str, *, end: bool) -> dt.datetime:
    try:
        if _DAY.fullmatch(value):
            day = dt.datetime.strptime(value, "%Y-%m-%d")
            return day + dt.timedelta(days=1) if end else day
        if _SECOND.fullmatch(value):
            moment = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
            return moment + dt.timedelta(seconds=1) if end else moment
    except ValueError:
        pass
    raise OAIError("badArgument", f"Not a UTC date of this repository's granularity: {value!r}.")


def _check_dates(values: dict[str, str]) -> None:
    start, until = values.get("from"), values.get("until")
    bounds = [_parse_date(v, end=False) for v in (start, until) if v]
    if start and until:
        if len(start) != len(until):
            raise OAIError("badArgument", "from and until must have the same granularity.")
        if bounds[0] > bounds[1]:
            raise OAIError("badArgument", "from is later than until.")


def date_range(values: dict[str, str]) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``[from, until)`` on ``updated_at``: ``until`` covers its whole day or second."""
    start = _parse_date(values["from"], end=False) if values.get("from") else None
    stop = _parse_date(values["until"], end=True) if values.get("until") else None
    return start, stop


# --- the response envelope -------------------------------------------------------------------


def envelope(args: dict[str, str] | None, verb: str | None) -> tuple[etree._Element, etree._Element]:
    root = etree.Element(f"{{{OAI}}}OAI-PMH", nsmap={None: OAI, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    _e(root, "responseDate", stamp(dt.datetime.now(dt.UTC)))
    req = _e(root, "request", url_for("oai.endpoint", _external=True))
    if verb is not None and args is not None:  # never after badVerb / badArgument (§3.6)
        req.set("verb", verb)
        for key, value in args.items():
            req.set(key, clean(value) or "")
    return root, req


def xml_response(root: etree._Element) -> Response:
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return Response(body, mimetype="text/xml")


@bp.route("/oai", methods=("GET", "POST"))
def endpoint() -> Response:
    args = _arguments()
    try:
        verb, values = check_arguments(args)
    except OAIError as error:
        root, _req = envelope(None, None)
        _e(root, "error", error.message, code=error.code)
        return xml_response(root)
    root, _req = envelope(values, verb)
    try:
        HANDLERS[verb](root, values)
    except OAIError as error:
        for child in list(root)[2:]:
            root.remove(child)
        _e(root, "error", error.message, code=error.code)
    return xml_response(root)


# --- verbs ---------------------------------------------------------------------------------


def public_query():  # noqa: ANN201 (a SQLAlchemy Select)
    return db.select(Thesis).where(Thesis.status.in_(oai_sets.PUBLIC))


def identify(root: etree._Element, _values: dict[str, str]) -> None:
    cfg = current_app.config
    earliest = db.session.scalar(
        db.select(db.func.min(Thesis.updated_at)).where(Thesis.status.in_(oai_sets.PUBLIC))
    )
    node = _e(root, "Identify")
    _e(node, "repositoryName", str(cfg["REPOSITORY_NAME"]))
    _e(node, "baseURL", url_for("oai.endpoint", _external=True))
    _e(node, "protocolVersion", "2.0")
    _e(node, "adminEmail", str(cfg["REPOSITORY_SUPPORT_EMAIL"]))
    _e(node, "earliestDatestamp", stamp(earliest or dt.datetime(1970, 1, 1)))
    # withdrawn theses stay in the database: their deletion is kept for ever
    _e(node, "deletedRecord", "persistent")
    _e(node, "granularity", GRANULARITY)


def _thesis_by_identifier(identifier: str) -> Thesis:
    prefix = f"oai:{namespace()}:etd/"
    local = identifier[len(prefix):] if identifier.startswith(prefix) else ""
    thesis = db.session.get(Thesis, int(local)) if local.isdigit() and len(local) < 12 else None
    if thesis is None or thesis.status not in oai_sets.PUBLIC:
        raise OAIError("idDoesNotExist", f"No item has the identifier {identifier!r}.")
    return thesis


def list_metadata_formats(root: etree._Element, values: dict[str, str]) -> None:
    if "identifier" in values:
        _thesis_by_identifier(values["identifier"])  # every item has every format
    node = _e(root, "ListMetadataFormats")
    for fmt in FORMATS.values():
        item = _e(node, "metadataFormat")
        _e(item, "metadataPrefix", fmt.prefix)
        _e(item, "schema", fmt.schema)
        _e(item, "metadataNamespace", fmt.namespace)


def list_sets(root: etree._Element, values: dict[str, str]) -> None:
    if "resumptionToken" in values:  # the list always comes whole
        raise OAIError("badResumptionToken", "This repository issues no ListSets tokens.")
    node = _e(root, "ListSets")
    for spec, name in oai_sets.all_sets():
        item = _e(node, "set")
        _e(item, "setSpec", spec)
        _e(item, "setName", name)


def _format(prefix: str):  # noqa: ANN202
    if prefix not in FORMATS:
        raise OAIError("cannotDisseminateFormat", f"No metadata format {prefix!r} here.")
    return FORMATS[prefix]


def header(parent: etree._Element, thesis: Thesis) -> None:
    node = _e(parent, "header")
    if thesis.status == WITHDRAWN:
        node.set("status", "deleted")
    _e(node, "identifier", oai_identifier(thesis))
    _e(node, "datestamp", stamp(thesis.updated_at))
    for spec in oai_sets.specs_of(thesis):
        _e(node, "setSpec", spec)


def record(parent: etree._Element, thesis: Thesis, prefix: str) -> None:
    node = _e(parent, "record")
    header(node, thesis)
    if thesis.status != WITHDRAWN:
        _e(node, "metadata").append(FORMATS[prefix].write(thesis))


def get_record(root: etree._Element, values: dict[str, str]) -> None:
    _format(values["metadataPrefix"])
    thesis = _thesis_by_identifier(values["identifier"])
    record(_e(root, "GetRecord"), thesis, values["metadataPrefix"])


def _resume(verb: str, token: str) -> dict[str, str | int]:
    try:
        state = _serializer().loads(token, max_age=_token_seconds())
    except SignatureExpired as error:
        raise OAIError("badResumptionToken", "The resumptionToken has expired.") from error
    except BadSignature as error:
        raise OAIError("badResumptionToken", "The resumptionToken is not valid.") from error
    if not isinstance(state, dict) or state.get("verb") != verb:
        raise OAIError("badResumptionToken", "The resumptionToken is not for this verb.")
    return state


def list_items(root: etree._Element, values: dict[str, str], verb: str) -> None:
    """ListIdentifiers and ListRecords, a page at a time in identifier order."""
    if "resumptionToken" in values:
        state = _resume(verb, values["resumptionToken"])
    else:
        state = {"verb": verb, "after": 0, "cursor": 0,
                 **{k: values[k] for k in ("metadataPrefix", "from", "until", "set") if k in values}}
        _format(str(state["metadataPrefix"]))
    query = public_query()
    start, stop = date_range({k: str(v) for k, v in state.items()})
    if start is not None:
        query = query.where(Thesis.updated_at >= start)
    if stop is not None:
        query = query.where(Thesis.updated_at < stop)
    if "set" in state:
        query = query.where(oai_sets.condition(str(state["set"])))
    size = int(current_app.config["REPOSITORY_OAI_PAGE_SIZE"])
    total = db.session.scalar(db.select(db.func.count()).select_from(query.subquery())) or 0
    page = db.session.scalars(
        query.where(Thesis.id > int(state["after"])).order_by(Thesis.id).limit(size + 1)
    ).all()
    if not page:
        raise OAIError("noRecordsMatch", "No item matches these arguments.")
    more, page = len(page) > size, page[:size]
    node = _e(root, verb)
    for thesis in page:
        if verb == "ListRecords":
            record(node, thesis, str(state["metadataPrefix"]))
        else:
            header(node, thesis)
    cursor = int(state["cursor"])
    if more or "resumptionToken" in values:
        _token(node, state, page[-1].id if more else None, cursor, len(page), total)


def _token(node: etree._Element, state: dict, last: int | None, cursor: int, count: int,
           total: int) -> None:
    """The resumptionToken: the next page's, or empty on the last page of a resumed list."""
    element = _e(node, "resumptionToken", cursor=str(cursor))
    element.set("completeListSize", str(max(total, cursor + count)))
    if last is not None:
        element.text = _serializer().dumps({**state, "after": last, "cursor": cursor + count})
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=_token_seconds())
        element.set("expirationDate", stamp(expires))


HANDLERS = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "GetRecord": get_record,
    "ListIdentifiers": lambda root, values: list_items(root, values, "ListIdentifiers"),
    "ListRecords": lambda root, values: list_items(root, values, "ListRecords"),
}
