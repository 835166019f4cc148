"""Sample content for ``make demo``: a few published theses so browsing and search have
something to show, and a tiny well-formed PDF generator (also used by the tests)."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from pathlib import Path

from flask import current_app

from . import deposit
from .db import db
from .models import PUBLISHED, Advisor, Thesis, User, utcnow


def sample_pdf(text: str = "A thesis") -> bytes:
    """A small but well-formed one-page PDF (correct xref offsets), so viewers open it."""
    safe = text.encode("latin-1", "replace").decode("latin-1")
    safe = safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 24 Tf 72 720 Td ({safe}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


SAMPLE_THESES = [
    {
        "author": ("Inés", "Robledo Vidal", "ines.robledo@example.edu"),
        "title": "Cartografía de la memoria urbana",
        "subtitle": "Barrios, archivos y mapas participativos",
        "abstract": "Esta tesis estudia cómo los vecinos reconstruyen la historia de sus "
                    "barrios con mapas participativos y archivos familiares.",
        "keywords": "geografía urbana, memoria, cartografía participativa",
        "language": "es", "degree": "phd", "department": "Department of Geography",
        "program_start": "2019-09", "degree_date": dt.date(2024, 5, 26),
        "advisors": ["Pilar Serrano"], "embargo_days": None,
    },
    {
        "author": ("Thomas", "Okafor", "thomas.okafor@example.edu"),
        "title": "Low-Power Sensor Networks for River Monitoring",
        "subtitle": None,
        "abstract": "We design and field-test a network of solar-powered sensors that report "
                    "water quality along the Seekonk River for a full year.",
        "keywords": "sensor networks, environmental monitoring, energy harvesting",
        "language": "en", "degree": "ms", "department": "School of Engineering",
        "program_start": "2022-09", "degree_date": dt.date(2024, 5, 26),
        "advisors": ["Helen Park", "Ravi Menon"], "embargo_days": None,
    },
    {
        "author": ("Lena", "Hartmann", "lena.hartmann@example.edu"),
        "title": "Trust and Delegation in Clinical Decision Support",
        "subtitle": "An ethnography of three hospital wards",
        "abstract": "Based on eighteen months of fieldwork, this dissertation follows how "
                    "nurses and physicians decide when to follow an algorithm's advice.",
        "keywords": "medical anthropology, decision support, trust",
        "language": "en", "degree": "phd", "department": "Department of Anthropology",
        "program_start": "2018-09", "degree_date": dt.date(2025, 5, 25),
        "advisors": ["Miriam Cole"], "embargo_days": 365,
    },
]


def seed_sample_theses() -> int:
    """Publish :data:`SAMPLE_THESES` once (their authors have no ORCID connection)."""
    if db.session.scalar(db.select(db.func.count()).select_from(Thesis)):
        return 0
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    for sample in SAMPLE_THESES:
        given, family, email = sample["author"]
        user = User(email=email, given_names=given, family_name=family)
        user.set_password(secrets.token_urlsafe(16))  # nobody logs in as them
        db.session.add(user)
        name = f"{uuid.uuid4().hex}.pdf"
        pdf = sample_pdf(sample["title"])
        (uploads / name).write_bytes(pdf)
        embargo = sample["embargo_days"]
        thesis = Thesis(
            author=user, given_names=given, family_name=family, email=email,
            title=sample["title"], subtitle=sample["subtitle"], abstract=sample["abstract"],
            keywords=sample["keywords"], language=sample["language"], degree=sample["degree"],
            department=sample["department"],
            institution=current_app.config["REPOSITORY_INSTITUTION_NAME"],
            program_start=sample["program_start"], degree_date=sample["degree_date"],
            embargo_until=dt.date.today() + dt.timedelta(days=embargo) if embargo else None,
            pdf_file=name, pdf_name="thesis.pdf", pdf_size=len(pdf), submitted_at=utcnow(),
            license=sample.get("license", "cc-by-4.0"), agreement_accepted_at=utcnow(),
        )
        thesis.advisors = [Advisor(name=a, position=i) for i, a in enumerate(sample["advisors"])]
        db.session.add(thesis)
        db.session.flush()
        deposit.publish(thesis)
        assert thesis.status == PUBLISHED
    db.session.commit()
    return len(SAMPLE_THESES)
