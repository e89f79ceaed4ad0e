#!/usr/bin/env python3
"""moat's _ssl beyond CPython's suite: the moat package's extras, many
threads sharing a context that another thread reconfigures, and a loop
that must not grow the process (reference leaks show as RSS growth).

usage: test_module.py MODULE_DIR  (run with MODULE_DIR first on PYTHONPATH)"""
import gc
import os
import sys
import threading

import ssl
import test

sys.path.insert(0, sys.argv[1])
import moat  # noqa: E402

if not ssl.OPENSSL_VERSION.startswith("moat "):
    sys.exit("moat's _ssl is not loaded: %s" % ssl.OPENSSL_VERSION)
CERTS = os.path.join(os.path.dirname(test.__file__), "certdata")
if not os.path.isdir(CERTS):
    CERTS = os.path.dirname(test.__file__)
SIGNED = os.path.join(CERTS, "keycert3.pem")
CA = os.path.join(CERTS, "pycacert.pem")
failed = 0


def check(name, cond, detail=""):
    global failed
    print("%s %s %s" % ("ok  " if cond else "FAIL", name, detail), flush=True)
    failed += not cond


def pair(cctx, sctx, session=None):
    ci, co, si, so = (ssl.MemoryBIO() for _ in range(4))
    c = cctx.wrap_bio(ci, co, server_hostname="localhost", session=session)
    s = sctx.wrap_bio(si, so, server_side=True)
    for _ in range(20):
        for o, out, peer_in in ((c, co, si), (s, so, ci)):
            try:
                o.do_handshake()
            except ssl.SSLWantReadError:
                pass
            peer_in.write(out.read())
        if c.version() and s.version():
            break
    return c, s, (ci, co, si, so)


def contexts():
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(SIGNED)
    cctx = ssl.create_default_context(cafile=CA)
    # 3.13 turns on X509_STRICT, under which moat refuses CPython's test
    # certificates (their authorityKeyIdentifier has issuer and serial;
    # docs/python.md)
    cctx.verify_flags &= ~ssl.VERIFY_X509_STRICT
    return cctx, sctx


def test_extras():
    cctx, sctx = contexts()
    for maxv in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        cctx.maximum_version = maxv
        c, s, (ci, co, si, so) = pair(cctx, sctx)
        v = c.version()
        e1 = moat.export_keying_material(c, "EXPERIMENTAL-moat", 20, b"ctx")
        e2 = moat.export_keying_material(s, "EXPERIMENTAL-moat", 20, b"ctx")
        check("exporter agrees (%s)" % v, e1 == e2 and len(e1) == 20)
        check("exporter context matters (%s)" % v,
              moat.export_keying_material(c, "EXPERIMENTAL-moat", 20) != e1)
        cb = moat.channel_binding(c)
        check("tls-exporter agrees (%s)" % v,
              cb == moat.channel_binding(s) and len(cb) == 32)
        check("tls-unique agrees (%s)" % v,
              c.get_channel_binding() == s.get_channel_binding()
              and c.get_channel_binding() is not None)
        info = moat.info(c)
        check("info names the group and signature (%s)" % v,
              info["group"] and info["peer_sigalg"], repr(info["group"]))
        if v == "TLSv1.3":
            moat.key_update(c)
            c.write(b"after update")
            si.write(co.read())
            got = s.read(100)
            ci.write(so.read())  # the server's own KeyUpdate, asked for
            s.write(b"back")
            ci.write(so.read())
            check("KeyUpdate both ways", got == b"after update" and
                  c.read(100) == b"back")


def records(data):
    """The lengths of the TLS records in data."""
    out, off = [], 0
    while off + 5 <= len(data):
        n = int.from_bytes(data[off + 3:off + 5], "big")
        out.append(n)
        off += 5 + n
    return out


def test_record_size_limit():
    """moat.set_record_size_limit: a client's limit of 256 makes the
    server's records smaller (TLS 1.3: 255 bytes of data, the type byte
    and a 16-byte tag), reported by moat.info on both sides."""
    cctx, sctx = contexts()
    try:
        moat.set_record_size_limit(cctx, 63)
        check("record_size_limit 63 refused", False)
    except ValueError as e:
        check("record_size_limit 63 refused", "64 to 16385" in str(e), str(e))
    moat.set_record_size_limit(cctx, 256)
    c, s, (ci, co, si, so) = pair(cctx, sctx)
    ic, is_ = moat.info(c), moat.info(s)
    check("record_size_limit negotiated",
          ic["record_size_limit"] == 256 and
          ic["peer_record_size_limit"] == 16385 and
          is_["peer_record_size_limit"] == 256,
          "%r %r" % (ic, is_))
    s.write(b"x" * 2000)
    wire = so.read()
    lens = records(wire)
    check("the server's records keep to 256", lens == [256 + 16] * 7 +
          [2000 - 7 * 255 + 1 + 16], repr(lens))
    ci.write(wire)
    got = b""
    while len(got) < 2000:
        got += c.read(4096)
    check("the data arrives", got == b"x" * 2000)


def test_verify_detail():
    """moat.info names the certificate verification refused: its depth
    and subject; nothing when verification passed."""
    cctx, sctx = contexts()
    c, s, _ = pair(cctx, sctx)
    info = moat.info(c)
    check("verified: no refused certificate",
          info["verify_depth"] == -1 and info["verify_subject"] is None,
          repr((info["verify_depth"], info["verify_subject"])))
    ci, co, si, so = (ssl.MemoryBIO() for _ in range(4))
    c = cctx.wrap_bio(ci, co, server_hostname="wrong.example")
    s = sctx.wrap_bio(si, so, server_side=True)
    err = None
    for _ in range(10):
        for o, out, peer_in in ((c, co, si), (s, so, ci)):
            try:
                o.do_handshake()
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as e:
                if o is c:
                    err = e
            peer_in.write(out.read())
        if err:
            break
    info = moat.info(c)
    check("hostname mismatch: depth 0 and the leaf's subject",
          isinstance(err, ssl.SSLCertVerificationError)
          and info["verify_depth"] == 0
          and "CN=localhost" in (info["verify_subject"] or ""),
          repr((err, info["verify_depth"], info["verify_subject"])))


def test_threads():
    """A server context shared by 8 threads' handshakes while a ninth
    reconfigures it (the connections take a policy snapshot each)."""
    cctx, sctx = contexts()
    errors = []
    stop = threading.Event()

    def worker():
        try:
            for _ in range(40):
                c, s, _ = pair(cctx, sctx)
                if c.version() is None or s.version() is None:
                    errors.append("handshake did not finish")
        except Exception as e:
            errors.append(repr(e))

    def reconfigure():
        i = 0
        while not stop.is_set():
            sctx.set_ciphers("ECDHE+AESGCM" if i % 2 else "DEFAULT")
            sctx.verify_flags = ssl.VERIFY_DEFAULT if i % 2 else ssl.VERIFY_X509_TRUSTED_FIRST
            cctx.load_verify_locations(CA)
            sctx.num_tickets = i % 3
            i += 1
    ts = [threading.Thread(target=worker) for _ in range(8)]
    r = threading.Thread(target=reconfigure)
    r.start()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    stop.set()
    r.join()
    check("8 threads x 40 handshakes on a context being reconfigured",
          not errors, "; ".join(errors[:3]))


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_rss(n=10000):
    """Contexts, TLS objects, sessions and certificates made and dropped
    n times: the process must not grow."""
    cctx, sctx = contexts()
    c, s, _ = pair(cctx, sctx)
    c.read  # noqa: B018
    der = c.getpeercert(True)
    pem = ssl.DER_cert_to_PEM_cert(der)

    def once(i):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cadata=pem)
        obj = ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(),
                           server_hostname="localhost")
        obj.cipher()
        if i % 20 == 0:  # a real handshake, its session and its chain
            cl, sv, bios = pair(cctx, sctx)
            sv.write(b"x")
            bios[0].write(bios[3].read())
            cl.read(1)
            sess = cl.session
            cl.getpeercert()
            if sys.version_info >= (3, 13):
                cl.get_verified_chain()
            if sess is not None:
                pair(cctx, sctx, session=sess)
    for i in range(n // 5):
        once(i)
    gc.collect()
    before = rss_kb()
    for i in range(n):
        once(i)
    gc.collect()
    grown = rss_kb() - before
    check("%d contexts, objects, sessions, certificates: RSS" % n,
          grown < 4096, "grew %d KiB" % grown)


test_extras()
test_record_size_limit()
test_verify_detail()
test_threads()
test_rss()
print("test_module: %s" % ("FAILED" if failed else "all passed"))
sys.exit(1 if failed else 0)
