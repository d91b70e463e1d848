#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_tls_session (tests/fuzz/corpus/tls_session/):
byte 0 is the driver's mode (bits 0-1) and cut seed (bits 2-7), then the
bytes. The ClientHellos are real ones, made by Python's ssl module on
memory BIOs (no network): TLS 1.3 with SNI, TLS 1.2 only, TLS 1.0 only
(refused: logshipd wants 1.2 or newer), ALPN http/1.1, and cut short.

Run it again after changing it: python3 tests/fuzz/tls_corpus.py
Seeds named regress_* are kept from fuzzing runs (left as they are)."""
import os
import ssl
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)  # TLS 1.0, on purpose

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "tls_session")


def client_hello(minv=None, maxv=None, sni="localhost", alpn=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if minv or maxv:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    if minv:
        ctx.minimum_version = minv
    if maxv:
        ctx.maximum_version = maxv
    if alpn:
        ctx.set_alpn_protocols(alpn)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=sni)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def mode(m, seed=0):
    return bytes([(seed << 2) | m])


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if not f.startswith("regress_"):
            os.remove(os.path.join(OUT, f))
    v = ssl.TLSVersion
    hello13 = client_hello()
    seeds = {
        "hello_tls13": mode(0) + hello13,
        "hello_tls13_pieces": mode(0, 7) + hello13,
        "hello_tls12": mode(0) + client_hello(maxv=v.TLSv1_2),
        "hello_alpn": mode(0) + client_hello(alpn=["http/1.1"]),
        "hello_no_sni": mode(0) + client_hello(sni=None),
        "hello_cut_then_close": mode(3) + hello13[:40],
        "hello_then_garbage": mode(0) + hello13 + b"\x17\x03\x03\x00\x05hello",
        "plain_http": mode(0) + b"GET /api/logs HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "plain_syslog": mode(0) + b"<34>1 2026-11-21T10:45:56Z h app - - - hi\n",
        "not_tls_binary": mode(0) + bytes(range(0, 32)) * 4,
        "record_too_long": mode(0) + b"\x16\x03\x01\xff\xff" + b"\x01" * 64,
        "echo_text": mode(1) + b'{"msg":"over TLS"}\nhello\n',
        "echo_pieces": mode(1, 13) + bytes(range(256)) * 40,
        "echo_empty": mode(1),
        "after_hs_garbage": mode(2) + b"\x17\x03\x03\x00\x20" + b"\xaa" * 32,
        "after_hs_plain_alert": mode(2) + b"\x15\x03\x03\x00\x02\x02\x28",
        "after_hs_text": mode(2, 3) + b"GET / HTTP/1.1\r\n\r\n",
    }
    try:
        seeds["hello_tls10"] = mode(0) + client_hello(minv=v.TLSv1, maxv=v.TLSv1)
    except (ssl.SSLError, ValueError):
        pass  # this OpenSSL will not even offer it
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds)} seeds to {OUT}")


if __name__ == "__main__":
    main()
