#!/usr/bin/env python3
"""Python's ssl on OpenSSL against the same stdlib on moat's _ssl, in one
run with one interpreter.

usage: python_bench.py MODULE_DIR [--quick]

Each side runs in its own process (moat's with MODULE_DIR first on
PYTHONPATH): create_default_context(), full and resumed TLS 1.3
handshakes over MemoryBIO pairs, 16 KiB and 1 KiB writes read back, and
the memory an idle connection object holds."""
import json
import os
import subprocess
import sys
import time


def side(quick):
    import ssl
    import test
    certs = os.path.join(os.path.dirname(test.__file__), "certdata")
    signed = os.path.join(certs, "keycert3.pem")
    ca = os.path.join(certs, "pycacert.pem")
    scale = 0.2 if quick else 1.0
    res = {"lib": ssl.OPENSSL_VERSION}

    def rate(fn, seconds):
        n, t0 = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            el = time.perf_counter() - t0
            if el >= seconds * scale:
                return n / el

    res["create_default_context_ms"] = 1000 / rate(ssl.create_default_context, 1)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(signed)
    cctx = ssl.create_default_context(cafile=ca)
    cctx.verify_flags &= ~ssl.VERIFY_X509_STRICT  # 3.13: see docs/python.md

    def pair(session=None):
        ci, co, si, so = (ssl.MemoryBIO() for _ in range(4))
        c = cctx.wrap_bio(ci, co, server_hostname="localhost", session=session)
        s = sctx.wrap_bio(si, so, server_side=True)
        for _ in range(10):
            for o, out, peer in ((c, co, si), (s, so, ci)):
                try:
                    o.do_handshake()
                except ssl.SSLWantReadError:
                    pass
                peer.write(out.read())
            if c.version() and s.version():
                break
        return c, s, ci, co, si, so

    res["full_hs_per_s"] = rate(pair, 2)
    c, s, ci, co, si, so = pair()
    s.write(b"x")
    ci.write(so.read())
    c.read(1)
    sess = c.session

    def resumed():
        pair(session=sess)
    res["resumed_hs_per_s"] = rate(resumed, 2)
    for size, key in ((16384, "bulk_16k_MBps"), (1024, "bulk_1k_MBps")):
        data = b"z" * size
        buf = bytearray(size)
        moved = [0]

        def one():
            for _ in range(16):
                c.write(data)
            si.write(co.read())
            got = 0
            while got < 16 * size:
                got += s.read(size, buf)
            moved[0] += 16 * size
        t0 = time.perf_counter()
        rate(one, 1)
        res[key] = moved[0] / (time.perf_counter() - t0) / 1e6

    def rss():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    keep = []
    before = rss()
    for _ in range(500):
        keep.append(pair())
    res["idle_conn_pair_bytes"] = (rss() - before) / 500
    print(json.dumps(res))


def main():
    if sys.argv[1] == "--side":
        side("--quick" in sys.argv)
        return
    mod = os.path.abspath(sys.argv[1])
    quick = "--quick" in sys.argv
    out = {}
    for name, pp in (("stdlib", None), ("moat", mod)):
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        if pp:
            env["PYTHONPATH"] = pp
        r = subprocess.run([sys.executable, __file__, "--side"] +
                           (["--quick"] if quick else []), env=env,
                           capture_output=True, text=True, check=True)
        out[name] = json.loads(r.stdout)
    a, b = out["stdlib"], out["moat"]
    print("Python %s: stdlib ssl on %s vs moat (%s)" % (
        sys.version.split()[0], a["lib"], b["lib"]))
    rows = (("create_default_context()", "create_default_context_ms", "ms", True),
            ("full handshakes (MemoryBIO)", "full_hs_per_s", "/s", False),
            ("resumed handshakes", "resumed_hs_per_s", "/s", False),
            ("16 KiB writes", "bulk_16k_MBps", "MB/s", False),
            ("1 KiB writes", "bulk_1k_MBps", "MB/s", False),
            ("idle client+server objects", "idle_conn_pair_bytes", "B", True))
    for label, key, unit, lower in rows:
        x, y = a[key], b[key]
        ratio = (x / y) if lower else (y / x)
        print("  %-28s %12.2f %-5s %12.2f %-5s  %.2fx" % (label, x, unit, y, unit,
                                                          ratio))
    if len(sys.argv) > 2 and sys.argv[2].endswith(".json"):
        with open(sys.argv[2], "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
