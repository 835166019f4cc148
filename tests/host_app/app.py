"""A small thesis site that embeds flask-orcid the way docs/integration-guide.md says: its own
users with Flask-Login, Flask-WTF's CSRFProtect, and no current_user_loader.

Written from the guide alone (section 1, "Hosts that use Flask-Login" and "Hosts that use
Flask-WTF's CSRFProtect"; section 13 for its test), so that the guide stays enough.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, redirect, render_template_string, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from flask_orcid import ORCID

db = SQLAlchemy()
login_manager = LoginManager()
csrf = CSRFProtect()
orcid = ORCID(db=db)  # defines the orcid_* tables on our db; no current_user_loader


class User(UserMixin, db.Model):
    __tablename__ = "host_users"

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(255), unique=True, nullable=False)
    first_name = db.Column(db.String(255))
    last_name = db.Column(db.String(255))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


LOGIN_PAGE = """<form method="post" action="{{ url_for('login') }}">
<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<input name="email"><button>Sign in</button></form>"""

PROFILE_PAGE = """{% import "orcid/macros.html" as orcid_ui %}
<h1>{{ current_user.first_name }} {{ current_user.last_name }}</h1>
{% if account %}{{ orcid_ui.orcid_id_full(account.orcid) }}
{% else %}{{ orcid_ui.connect_button(next=request.path) }}{% endif %}"""


def create_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="host-app-secret-for-tests",
        SQLALCHEMY_DATABASE_URI="sqlite://",
        ORCID_ENVIRONMENT="emulator",
        ORCID_SUPPORT_EMAIL="theses@example.edu",
        ORCID_USER_GIVEN_NAMES_ATTR="first_name",
        ORCID_USER_FAMILY_NAMES_ATTR="last_name",
    )
    app.config.update(config)
    db.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    orcid.init_app(app)

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if request.method == "GET":
            return render_template_string(LOGIN_PAGE)
        user = db.session.scalar(db.select(User).filter_by(email=request.form["email"]))
        if user is None:
            abort(403)
        login_user(user)  # a real site checks a password; this one trusts its tests
        return redirect(url_for("profile"))

    @app.get("/profile")
    @login_required
    def profile() -> str:
        account = orcid.get_account(current_user.get_id())
        return render_template_string(PROFILE_PAGE, account=account)
    return app  # its tables are created by the caller (see test_host_app.py)
