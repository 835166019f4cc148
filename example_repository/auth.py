"""Local accounts: register, log in, log out. ORCID is linked to an account, never replaces it."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from flask_orcid.safety import safe_next as orcid_safe_next

from .db import db
from .forms import ActionForm, LoginForm, RegisterForm
from .models import User
from .throttle import throttle

bp = Blueprint("auth", __name__, url_prefix="/account")


@bp.before_app_request
def load_user() -> None:
    user_id = session.get("user_id")
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is not None and session.get("generation") != (user.session_generation or 0):
        # a cookie from before a logout (copied, stolen): it ended on the server
        session.clear()
        user = None
    g.user = user


def _sign_in(user: User) -> None:
    """A fresh session for ``user`` (keeping only the language choice)."""
    lang = session.get("lang")
    session.clear()
    session["user_id"] = user.id
    session["generation"] = user.session_generation or 0
    if lang:
        session["lang"] = lang


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths are followed (flask-orcid's one check, for the whole site)."""
    return orcid_safe_next(target) or default


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            flash(_("Please log in to continue."), "info")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not g.user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _dummy_hash() -> str:
    """A hash made like real ones, checked when the email is unknown: a login takes as long
    whether or not the address has an account."""
    method = current_app.config.get("PASSWORD_HASH_METHOD") or "scrypt"
    cached = _DUMMY_HASHES.get(method)
    if cached is None:
        cached = _DUMMY_HASHES[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return cached


_DUMMY_HASHES: dict[str, str] = {}


@bp.route("/register", methods=("GET", "POST"))
def register():
    if not current_app.config["REPOSITORY_ALLOW_REGISTRATION"]:
        abort(404)
    form = RegisterForm()
    if form.validate_on_submit():
        if not throttle().register_allowed(request.remote_addr or ""):
            abort(429)
        email = form.email.data.strip().lower()
        # Same answer, same work, whether or not the address has an account: registration
        # never tells who is registered here. Everyone then logs in with their password.
        user = User(
            email=email,
            given_names=form.given_names.data.strip(),
            family_name=form.family_name.data.strip(),
            locale=session.get("lang"),
        )
        user.set_password(form.password.data)
        if db.session.scalar(db.select(User.id).filter_by(email=email)) is None:
            db.session.add(user)
            db.session.commit()
        flash(_("Thank you. Log in with your email and password. If this address already had "
                "an account, use that account's password."), "success")
        target = orcid_safe_next(request.args.get("next"))
        return redirect(url_for("auth.login", next=target) if target else url_for("auth.login"))
    return render_template("auth/register.html", form=form)


@bp.route("/login", methods=("GET", "POST"))
def login():
    form = LoginForm()
    if request.method == "POST":
        account = str(request.form.get("email") or "").strip().lower()[:320]
        address = request.remote_addr or ""
        if not throttle().login_allowed(account, address):
            abort(429)
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(db.select(User).filter_by(email=email))
        if user is None:
            check_password_hash(_dummy_hash(), form.password.data)
        if user is None or not user.check_password(form.password.data):
            throttle().login_failed(account, address)
            form.password.errors.append(_("Email or password is not right."))
        else:
            throttle().login_succeeded(account)
            _sign_in(user)
            default = url_for("admin.queue") if user.is_admin else url_for("student.dashboard")
            return redirect(safe_next(request.args.get("next"), default))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=("POST",))
def logout():
    form = ActionForm()
    if form.validate_on_submit():
        if g.user is not None:
            # every session of this account ends, copies of the cookie included
            g.user.session_generation = (g.user.session_generation or 0) + 1
            db.session.commit()
        lang = session.get("lang")
        session.clear()
        if lang:
            session["lang"] = lang
        flash(_("You are logged out."), "info")
    return redirect(url_for("index"))
