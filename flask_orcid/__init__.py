"""flask-orcid: ORCID for Flask thesis systems and institutional repositories."""

from __future__ import annotations

from .config import Endpoints, endpoints
from .errors import *  # noqa: F403
from .errors import __all__ as _errors_all

__version__ = "0.1.0"

__all__ = [
    "Endpoints",
    "endpoints",
    *_errors_all,
]
