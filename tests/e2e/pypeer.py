#!/usr/bin/env python3
"""One Python `ssl` peer of the oracle end-to-end tests (tests/e2e).

Configured exactly as the oracle's generator configures the `tlsv` variant
(shared/oracle/harness.py of the steering repository, build_ctx(..., variant="tlsv")):

    ctx = ssl.SSLContext(PROTOCOL_...)
    client: ctx.check_hostname = False; ctx.verify_mode = CERT_NONE
    server: ctx.load_cert_chain(cert, key)
    ctx.set_ciphers('DEFAULT:@SECLEVEL=0')
    ctx.options |= each OP_NO_* of the spec (in order)
    ctx.minimum_version = spec min   (if any)
    ctx.maximum_version = spec max   (if any)

Usage (the runner starts it with OPENSSL_CONF pointing to an empty file):
    pypeer.py server --spec JSON --cert F --key F [--timeout S]
        prints {"port": N} once listening on 127.0.0.1 (port picked by the
        kernel), accepts ONE connection, runs the handshake;
    pypeer.py client --spec JSON --port N [--timeout S]
        connects to 127.0.0.1:N and runs the handshake.
Both then print one JSON line {"role", "config", "result", "python", "openssl"}:
result is {"ok": true, "version", "cipher"} or {"ok": false, "class",
"reason", "library", "message"} ("class": "no-connection" when a server saw
none, "timeout" when a wait ran out). Exit status 0 whatever the handshake
did (the result says it); 2 for bad usage.
"""
import argparse
import json
import re
import socket
import ssl
import sys
import warnings

LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"


def norm_msg(s):
    """Drops the '(_ssl.c:NNNN)' suffix, as the oracle does."""
    return re.sub(r"\s*\(_ssl\.c:\d+\)", "", str(s))


def exc_info(e):
    d = {"ok": False, "class": type(e).__name__, "message": norm_msg(e)}
    for a in ("reason", "library"):
        v = getattr(e, a, None)
        if v is not None:
            d[a] = v
    return d


def build_ctx(spec, side, cert, key):
    """Returns (ctx, readback, config_error)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ssl.SSLContext(getattr(ssl, spec["proto"]))
        err = None
        try:
            if side == "client":
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            else:
                ctx.load_cert_chain(cert, key)
            ctx.set_ciphers(LEGACY_CIPHERS)
            for o in spec.get("options", []):
                ctx.options |= getattr(ssl, o)
            if "min" in spec:
                ctx.minimum_version = ssl.TLSVersion[spec["min"]]
            if "max" in spec:
                ctx.maximum_version = ssl.TLSVersion[spec["max"]]
        except Exception as e:  # the oracle records this as a config error
            err = exc_info(e)
    rb = {"options": hex(ctx.options),
          "minimum_version": ctx.minimum_version.name,
          "maximum_version": ctx.maximum_version.name,
          "security_level": ctx.security_level}
    return ctx, rb, err


def finish(sock, timeout):
    """After a successful handshake: exchange close_notify (bounded);
    whatever happens here is not part of the result."""
    try:
        sock.settimeout(min(timeout, 3))
        sock.unwrap()
    except Exception:
        pass


def run_server(args, ctx):
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        print(json.dumps({"port": lsock.getsockname()[1]}), flush=True)
        lsock.settimeout(args.timeout)
        try:
            raw, _ = lsock.accept()
        except (socket.timeout, TimeoutError):
            return {"ok": False, "class": "no-connection",
                    "message": "no connection within %s s" % args.timeout}
    finally:
        lsock.close()
    with raw:
        raw.settimeout(args.timeout)
        try:
            s = ctx.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
            s.do_handshake()
        except (socket.timeout, TimeoutError) as e:
            return {"ok": False, "class": "timeout", "message": str(e)}
        except Exception as e:
            return exc_info(e)
        res = {"ok": True, "version": s.version(), "cipher": list(s.cipher())}
        finish(s, args.timeout)
        return res


def run_client(args, ctx):
    try:
        raw = socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout)
    except Exception as e:
        d = exc_info(e)
        d["class"] = "connect:" + d["class"]
        return d
    with raw:
        try:
            s = ctx.wrap_socket(raw, server_side=False, do_handshake_on_connect=False)
            s.do_handshake()
        except (socket.timeout, TimeoutError) as e:
            return {"ok": False, "class": "timeout", "message": str(e)}
        except Exception as e:
            return exc_info(e)
        res = {"ok": True, "version": s.version(), "cipher": list(s.cipher())}
        finish(s, args.timeout)
        return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=("client", "server"))
    ap.add_argument("--spec", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--port", type=int)
    ap.add_argument("--timeout", type=float, default=15.0)
    args = ap.parse_args()
    spec = json.loads(args.spec)
    if args.role == "server" and not (args.cert and args.key):
        ap.error("server needs --cert and --key")
    if args.role == "client" and not args.port:
        ap.error("client needs --port")
    ctx, rb, err = build_ctx(spec, args.role, args.cert, args.key)
    if err:
        if args.role == "server":
            print(json.dumps({"port": None}), flush=True)
        res = {"ok": False, "class": "config-error", "config_error": err}
    elif args.role == "server":
        res = run_server(args, ctx)
    else:
        res = run_client(args, ctx)
    print(json.dumps({"role": args.role, "config": rb, "result": res,
                      "python": sys.version.split()[0], "openssl": ssl.OPENSSL_VERSION}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
