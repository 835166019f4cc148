"""``python -m flask_orcid.emulator``: run the ORCID emulator on a local port."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from werkzeug.serving import make_server

from . import create_app
from .seed import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET


def _env(name: str, default: str) -> str:
    return os.environ.get(f"ORCID_EMULATOR_{name}", default)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m flask_orcid.emulator",
        description="A local ORCID registry (OAuth, member API v3.0, webhooks) for development, "
        "tests and demos. Every option can also be set with an ORCID_EMULATOR_<NAME> "
        "environment variable (e.g. ORCID_EMULATOR_PORT).",
    )
    parser.add_argument("--host", default=_env("HOST", "127.0.0.1"),
                        help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(_env("PORT", "5001")),
                        help="port (default 5001)")
    parser.add_argument("--db", default=_env("DB", "") or None,
                        help="SQLite file that keeps the state across restarts "
                        "(default: in memory)")
    parser.add_argument("--rate", type=float, default=float(_env("RATE", "24")),
                        help="requests per second per client (default 24)")
    parser.add_argument("--burst", type=int, default=int(_env("BURST", "40")),
                        help="burst before 503 (default 40)")
    parser.add_argument("--latency-ms", type=int, default=int(_env("LATENCY_MS", "0")),
                        help="delay added to every API request (default 0)")
    parser.add_argument("--webhook-delay", type=float, default=float(_env("WEBHOOK_DELAY", "0")),
                        help="seconds before a webhook callback is sent (default 0)")
    parser.add_argument("--quiet", action="store_true",
                        default=_env("QUIET", "") not in ("", "0"),
                        help="do not log every request")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    app = create_app({
        "EMULATOR_DB": args.db,
        "EMULATOR_RATE": args.rate,
        "EMULATOR_BURST": args.burst,
        "EMULATOR_LATENCY_MS": args.latency_ms,
        "EMULATOR_WEBHOOK_DELAY": args.webhook_delay,
    })
    if args.quiet:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(args.host, args.port, app, threaded=True)
    url = f"http://{args.host}:{server.port}"
    state = app.extensions["orcid_emulator"].state
    lines = [
        f"ORCID emulator running on {url}",
        f"  member client: {DEMO_CLIENT_ID} / {DEMO_CLIENT_SECRET} "
        "(redirect URIs: http://127.0.0.1:*, http://localhost:*)",
        "  researchers (sign in with email or iD):",
    ]
    for r in state.researchers.values():
        email = r.emails[0].email if r.emails else ""
        lines.append(f"    {r.orcid}  {r.display_name:<28} {email:<24} password: {r.password}")
    lines.append(f"  console: {url}/console   inspection: {url}/_emulator/researchers")
    lines.append(f"  state: {args.db or 'in memory'}")
    print("\n".join(lines), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
