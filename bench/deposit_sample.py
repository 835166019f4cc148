"""The sample repository's own deposit request: an admin accepts a submitted thesis (minting
its handle and DOI, publishing the landing page) with the ORCID deposit (``orcid.publish`` of
the work and the degree, in the same transaction) over the same request without it (the
author has no iD here, so nothing is queued). In-process, medians of alternating requests,
after a warm-up. Prints; asserts nothing. Used by bench/delivery.py; runs alone too."""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from example_repository import create_app, deposit  # noqa: E402
from example_repository.db import db  # noqa: E402
from example_repository.models import SUBMITTED, Advisor, Thesis, User  # noqa: E402
from example_repository.samples import sample_pdf  # noqa: E402
from flask_orcid.sync.clock import utcnow  # noqa: E402


def _app(folder: Path) -> Any:
    app = create_app({
        "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'repo.sqlite'}",
        "UPLOAD_FOLDER": str(folder / "uploads"), "ORCID_ENVIRONMENT": "emulator",
        "ORCID_EMULATOR_URL": "http://127.0.0.1:9", "ORCID_DELIVERY": "off",
        "ORCID_CLIENT_ID": "APP-DEMO000000000001", "ORCID_CLIENT_SECRET": "demo-secret-0001",
        "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    })
    (folder / "uploads").mkdir(exist_ok=True)
    return app


def _submitted_theses(app: Any, count: int) -> tuple[list[int], list[int]]:
    """``count`` submitted theses by connected authors, and as many by authors without an iD."""
    orcid = app.extensions["orcid"].extension
    pdf = sample_pdf("bench")
    connected, unconnected = [], []
    with app.app_context():
        admin = User(email="admin@example.edu", given_names="A", family_name="Admin",
                     is_admin=True)
        admin.set_password("password-1")
        db.session.add(admin)
        for i in range(2 * count):
            user = User(email=f"s{i}@example.edu", given_names="Stu", family_name=f"Dent {i}")
            user.set_password("x")
            db.session.add(user)
            db.session.flush()
            if i % 2 == 0:  # a connected author: an account row, as a sign-in stores it
                account = orcid.models.Account(
                    user_key=user.key, orcid=_orcid_id(i), environment="emulator",
                    scopes="/read-limited /activities/update")
                account.access_token = f"bench-token-{i}"
                db.session.add(account)
            (folder := Path(app.config["UPLOAD_FOLDER"]) / f"t{i}.pdf").write_bytes(pdf)
            thesis = Thesis(
                author=user, given_names="Stu", family_name=f"Dent {i}",
                email=user.email, title=f"Bench thesis {i}", abstract="An abstract.",
                keywords="a, b", language="en", degree="phd", department="Physics",
                institution=app.config["REPOSITORY_INSTITUTION_NAME"], program_start="2020-09",
                degree_date=dt.date(2025, 5, 1), pdf_file=folder.name, pdf_name="t.pdf",
                pdf_size=len(pdf), status=SUBMITTED, submitted_at=utcnow(),
                license="cc-by-4.0", agreement_accepted_at=utcnow())
            thesis.advisors = [Advisor(name="Ada Advisor", position=0)]
            db.session.add(thesis)
            db.session.flush()
            (connected if i % 2 == 0 else unconnected).append(thesis.id)
        db.session.commit()
    return connected, unconnected


def _orcid_id(n: int) -> str:
    """A valid iD (ISO 7064 11,2 check digit) from a number."""
    base = f"0000000{n:08d}"
    total = 0
    for ch in base:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    digits = base + ("X" if check == 10 else str(check))
    return "-".join(digits[i:i + 4] for i in range(0, 16, 4))


def accept_ratio(rounds: int = 300, warmup: int = 30) -> tuple[float, float, float]:
    """``(ratio, seconds without, seconds with)`` for the admin's accept request."""
    with tempfile.TemporaryDirectory() as tmp:
        app = _app(Path(tmp))
        with app.app_context():
            db.create_all()
        connected, unconnected = _submitted_theses(app, warmup + rounds)
        client = app.test_client()
        response = client.post("/account/login", data={"email": "admin@example.edu",
                                                     "password": "password-1"})
        assert response.status_code == 302, response.status_code
        times: dict[str, list[float]] = {"with": [], "without": []}
        for i in range(warmup + rounds):
            order = (("with", connected), ("without", unconnected))
            for name, ids in order if i % 2 else order[::-1]:
                t0 = time.perf_counter()
                response = client.post(f"/admin/theses/{ids[i]}",
                                       data={"review-accept": "Accept and publish"})
                elapsed = time.perf_counter() - t0
                assert response.status_code == 302, response.status_code
                if i >= warmup:
                    times[name].append(elapsed)
        with app.app_context():
            queued = db.session.query(app.extensions["orcid"].extension.models.Item).count()
            assert queued == 2 * (warmup + rounds), queued  # work + degree per connected author
            assert deposit  # the sample's deposit hook ran (imported for its side)
        without, with_ = statistics.median(times["without"]), statistics.median(times["with"])
        return with_ / without, without, with_


if __name__ == "__main__":
    ratio, without, with_ = accept_ratio()
    print(f"sample accept request           {ratio:.2f}x   ({with_ * 1e3:.2f} ms vs "
          f"{without * 1e3:.2f} ms)")
