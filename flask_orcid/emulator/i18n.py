"""The registry pages in English and Spanish (``lang=es``), without a translation toolchain."""

from __future__ import annotations

from flask import request, session

LANGUAGES = ("en", "es")

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "title": "ORCID registry emulator",
        "signin_heading": "Sign in to ORCID",
        "signin_intro": "Sign in with your ORCID account to continue to {client}.",
        "email_or_orcid": "Email or 16-digit ORCID iD",
        "password": "Password",
        "signin": "Sign in",
        "signin_failed": "We could not sign you in: check your email or iD and your password.",
        "no_account": "Don't have an ORCID iD yet?",
        "register_now": "Register now",
        "have_account": "Already have an ORCID iD?",
        "register_heading": "Register for an ORCID iD",
        "given_names": "First name",
        "family_names": "Last name (optional)",
        "email": "Primary email",
        "register": "Register",
        "register_failed": "Please fill in your first name, a valid email and a password of "
        "at least 8 characters.",
        "email_taken": "That email belongs to an existing record: sign in instead.",
        "consent_heading": "Authorize access",
        "consent_intro": "{client} has asked for the following access to your ORCID record:",
        "signed_in_as": "Signed in as",
        "not_you": "Not you? Sign out",
        "authorize": "Authorize access",
        "deny": "Deny access",
        "consent_note": "This organization will be added to your list of trusted "
        "organizations. You can remove it at any time from your account.",
        "error_heading": "Oops, something went wrong",
        "error_back": "Go back to the site you came from and try again.",
        "csrf_failed": "Your session expired or the form was tampered with. "
        "Go back, reload the page and try again.",
        "console_heading": "Your ORCID record",
        "works": "Works",
        "affiliations": "Affiliations",
        "source": "Source",
        "item": "Item",
        "actions": "Actions",
        "visibility": "Visibility",
        "delete": "Delete",
        "trusted_orgs": "Trusted organizations",
        "revoke": "Revoke access",
        "no_trusted": "No organization has access to your record.",
        "signout": "Sign out",
        "nothing_here": "Nothing here yet.",
        "scope:/authenticate": "Get your ORCID iD",
        "scope:openid": "Get your ORCID iD (OpenID Connect)",
        "scope:/read-limited": "Read your information with visibility set to Trusted "
        "Organizations",
        "scope:/activities/update": "Add or update your research activities (works, "
        "affiliations, funding)",
        "scope:/person/update": "Add or update your biographical information",
        "seeded_heading": "Test researchers",
        "name_hidden": "Name not public",
        "record_not_found": "There is no ORCID record with this iD.",
        "record_deprecated": "This record has been deprecated. Please refer to the primary "
        "record:",
        "record_locked": "This record is locked by ORCID.",
        "record_deactivated": "This record has been deactivated.",
        "employment": "Employment",
        "education": "Education and qualifications",
        "present": "present",
        "type:dissertation-thesis": "Dissertation or Thesis",
        "type:journal-article": "Journal article",
        "type:book": "Book",
        "type:book-chapter": "Book chapter",
        "type:conference-paper": "Conference paper",
        "type:data-set": "Data set",
        "type:preprint": "Preprint",
        "type:report": "Report",
        "type:software": "Software",
        "type:other": "Other",
        "visibility:public": "Everyone",
        "visibility:limited": "Trusted parties",
        "visibility:registered-only": "Registered users",
        "visibility:private": "Only me",
        "section:work": "work",
        "section:education": "education",
        "section:employment": "employment",
        "section:qualification": "qualification",
        "section:distinction": "distinction",
        "section:invited-position": "invited position",
        "section:membership": "membership",
        "section:service": "service",
    },
    "es": {
        "title": "Emulador del registro ORCID",
        "signin_heading": "Inicie sesión en ORCID",
        "signin_intro": "Inicie sesión con su cuenta ORCID para continuar a {client}.",
        "email_or_orcid": "Correo electrónico o iD ORCID de 16 dígitos",
        "password": "Contraseña",
        "signin": "Iniciar sesión",
        "signin_failed": "No pudimos iniciar su sesión: revise su correo o iD y su contraseña.",
        "no_account": "¿Todavía no tiene un iD ORCID?",
        "register_now": "Regístrese ahora",
        "have_account": "¿Ya tiene un iD ORCID?",
        "register_heading": "Regístrese para obtener un iD ORCID",
        "given_names": "Nombre",
        "family_names": "Apellidos (opcional)",
        "email": "Correo electrónico principal",
        "register": "Registrarse",
        "register_failed": "Indique su nombre, un correo válido y una contraseña de al menos "
        "8 caracteres.",
        "email_taken": "Ese correo pertenece a un registro existente: inicie sesión.",
        "consent_heading": "Autorizar el acceso",
        "consent_intro": "{client} solicita el siguiente acceso a su registro ORCID:",
        "signed_in_as": "Sesión iniciada como",
        "not_you": "¿No es usted? Cierre la sesión",
        "authorize": "Autorizar el acceso",
        "deny": "Denegar el acceso",
        "consent_note": "Esta organización se añadirá a su lista de organizaciones de "
        "confianza. Puede retirarla en cualquier momento desde su cuenta.",
        "error_heading": "Vaya, algo salió mal",
        "error_back": "Vuelva al sitio del que venía e inténtelo de nuevo.",
        "csrf_failed": "Su sesión caducó o el formulario fue alterado. Vuelva atrás, "
        "recargue la página e inténtelo de nuevo.",
        "console_heading": "Su registro ORCID",
        "works": "Obras",
        "affiliations": "Afiliaciones",
        "source": "Fuente",
        "item": "Elemento",
        "actions": "Acciones",
        "visibility": "Visibilidad",
        "delete": "Eliminar",
        "trusted_orgs": "Organizaciones de confianza",
        "revoke": "Revocar el acceso",
        "no_trusted": "Ninguna organización tiene acceso a su registro.",
        "signout": "Cerrar sesión",
        "nothing_here": "Aún no hay nada aquí.",
        "scope:/authenticate": "Obtener su iD ORCID",
        "scope:openid": "Obtener su iD ORCID (OpenID Connect)",
        "scope:/read-limited": "Leer su información con visibilidad «Organizaciones de "
        "confianza»",
        "scope:/activities/update": "Añadir o actualizar sus actividades de investigación "
        "(obras, afiliaciones, financiación)",
        "scope:/person/update": "Añadir o actualizar su información biográfica",
        "seeded_heading": "Investigadores de prueba",
        "name_hidden": "Nombre no público",
        "record_not_found": "No hay ningún registro ORCID con este iD.",
        "record_deprecated": "Este registro está obsoleto. Consulte el registro principal:",
        "record_locked": "ORCID ha bloqueado este registro.",
        "record_deactivated": "Este registro ha sido desactivado.",
        "employment": "Empleo",
        "education": "Educación y titulaciones",
        "present": "actualidad",
        "type:dissertation-thesis": "Tesis doctoral o de maestría",
        "type:journal-article": "Artículo de revista",
        "type:book": "Libro",
        "type:book-chapter": "Capítulo de libro",
        "type:conference-paper": "Ponencia de congreso",
        "type:data-set": "Conjunto de datos",
        "type:preprint": "Preimpresión",
        "type:report": "Informe",
        "type:software": "Software",
        "type:other": "Otro",
        "visibility:public": "Todo el mundo",
        "visibility:limited": "Partes de confianza",
        "visibility:registered-only": "Usuarios registrados",
        "visibility:private": "Solo yo",
        "section:work": "obra",
        "section:education": "educación",
        "section:employment": "empleo",
        "section:qualification": "titulación",
        "section:distinction": "distinción",
        "section:invited-position": "puesto invitado",
        "section:membership": "afiliación a sociedad",
        "section:service": "servicio",
    },
}


def current_lang() -> str:
    """As ORCID's registry picks it: the ``lang`` parameter (remembered), else the remembered
    choice, else the browser's ``Accept-Language``, else English. ORCID-Source orcid-web/src/
    main/resources/orcid-frontend-web-servlet.xml:76-79 (LocaleChangeInterceptor, paramName
    ``lang``) and orcid-web/src/main/java/org/orcid/frontend/spring/i18n/
    OrcidCookieLocaleResolver.java:16 (Spring's CookieLocaleResolver: the cookie, then the
    request's Accept-Language)."""
    asked = (request.values.get("lang") or "").strip().lower().replace("-", "_")[:2]
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    remembered = session.get("lang")
    if remembered in LANGUAGES:
        return str(remembered)
    return request.accept_languages.best_match(LANGUAGES) or "en"


def translate(key: str, **kwargs: str) -> str:
    text = MESSAGES[current_lang()].get(key) or MESSAGES["en"].get(key, key)
    return text.format(**kwargs) if kwargs else text
