#!/usr/bin/env python3
"""moat interop suite.

Runs the moat client and server against OpenSSL (s_server / s_client),
GnuTLS (gnutls-serv / gnutls-cli) and Python's own ssl module, in both
directions, over 127.0.0.1 only.  Every case checks that the negotiated
version, cipher suite, group and signature scheme are the ones asked for
(from moat's printed parameters and, where the peer tool prints them, from
the peer too) and that application data makes the round trip.

    tests/interop/run.py --moat build/moat [--jobs 2] [-k PATTERN] [--list]

Ends with "interop: N passed, N failed, N skipped" and exits non-zero when
any case failed.  Uses the standard library only.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROC_TIMEOUT = 20.0  # no child runs longer than this

SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
          "TLS_CHACHA20_POLY1305_SHA256"]
GROUPS = ["X25519", "P-256", "P-384"]
CERTS = ["ecdsa-p256", "ecdsa-p384", "rsa2048", "ed25519"]

GNUTLS_CIPHER = {"TLS_AES_128_GCM_SHA256": "AES-128-GCM",
                 "TLS_AES_256_GCM_SHA384": "AES-256-GCM",
                 "TLS_CHACHA20_POLY1305_SHA256": "CHACHA20-POLY1305"}
GNUTLS_GROUP = {"X25519": "X25519", "P-256": "SECP256R1",
                "P-384": "SECP384R1"}
PY_CURVE = {"X25519": "X25519", "P-256": "prime256v1", "P-384": "secp384r1"}
# What each spelling of a group may look like in a tool's output.
GROUP_ALIASES = {"X25519": {"x25519"},
                 "P-256": {"p-256", "secp256r1", "prime256v1"},
                 "P-384": {"p-384", "secp384r1"}}
# The TLS 1.3 signature scheme each server key must produce.
SIGALG = {"ecdsa-p256": r"ecdsa_secp256r1_sha256",
          "ecdsa-p384": r"ecdsa_secp384r1_sha384",
          "rsa2048": r"rsa_pss_rsae_sha(256|384|512)",
          "ed25519": r"ed25519"}
OPENSSL_SIGTYPE = {"ecdsa-p256": "ECDSA", "ecdsa-p384": "ECDSA",
                   "rsa2048": "RSA-PSS", "ed25519": "Ed25519"}
GNUTLS_SIG = {"ecdsa-p256": "ECDSA-SECP256R1-SHA256",
              "ecdsa-p384": "ECDSA-SECP384R1-SHA384",
              "rsa2048": "RSA-PSS-RSAE-SHA", "ed25519": "EdDSA-Ed25519"}
OPENSSL_TEMPKEY = {"X25519": "X25519", "P-256": "prime256v1",
                   "P-384": "secp384r1"}

# TLS 1.2: the three AEADs, each with ECDHE_ECDSA and ECDHE_RSA.
TLS12_AEADS = ["AES_128_GCM_SHA256", "AES_256_GCM_SHA384",
               "CHACHA20_POLY1305_SHA256"]
TLS12_CERTS = ["ecdsa-p256", "rsa2048"]
OPENSSL12_AEAD = {"AES_128_GCM_SHA256": "AES128-GCM-SHA256",
                  "AES_256_GCM_SHA384": "AES256-GCM-SHA384",
                  "CHACHA20_POLY1305_SHA256": "CHACHA20-POLY1305"}
GNUTLS12_AEAD = {"AES_128_GCM_SHA256": "AES-128-GCM",
                 "AES_256_GCM_SHA384": "AES-256-GCM",
                 "CHACHA20_POLY1305_SHA256": "CHACHA20-POLY1305"}
# In TLS 1.2 an RSA key may sign with PSS or PKCS#1 v1.5.
SIGALG12 = {"ecdsa-p256": r"ecdsa_secp256r1_sha256",
            "rsa2048": r"rsa_pss_rsae_sha(256|384|512)|"
                       r"rsa_pkcs1_sha(256|384|512)"}
GNUTLS_SIG12 = {"ecdsa-p256": "ECDSA-SHA256",
                "rsa2048": "RSA-"}
OPENSSL_SIGTYPE12 = {"ecdsa-p256": "ECDSA", "rsa2048": "RSA(-PSS)?"}


def tls12_groups(group, cert):
    """The client's groups for a TLS 1.2 case: in TLS 1.2 supported_groups
    also names the curves a client takes for ECDSA certificates (RFC 8422
    5.1), so an ECDSA P-256 server needs P-256 in the list too."""
    if cert.startswith("ecdsa") and group != "P-256":
        return group + ":P-256"
    return group


def tls12_suite(aead, cert):
    kx = "RSA" if cert.startswith("rsa") else "ECDSA"
    return "TLS_ECDHE_%s_WITH_%s" % (kx, aead)


def openssl12_name(suite):
    """TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 -> ECDHE-RSA-AES128-GCM-SHA256."""
    m = re.fullmatch(r"TLS_ECDHE_(RSA|ECDSA)_WITH_(.*)", suite)
    return "ECDHE-%s-%s" % (m.group(1), OPENSSL12_AEAD[m.group(2)])


for _aead in TLS12_AEADS:
    for _kx in ("RSA", "ECDSA"):
        GNUTLS_CIPHER["TLS_ECDHE_%s_WITH_%s" % (_kx, _aead)] = \
            GNUTLS12_AEAD[_aead]


class CaseFailed(Exception):
    pass


class CaseSkipped(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise CaseFailed(what)


# ---- child processes -------------------------------------------------------

class Proc:
    """A child process with its output collected by reader threads.  Only
    processes started here are ever signalled, by their own pid."""

    def __init__(self, argv, stdin_data=None, env=None, cwd=None):
        self.argv = argv
        self.out = bytearray()
        self.err = bytearray()
        self.lock = threading.Condition()
        self.started = time.monotonic()
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env, cwd=cwd)
        self.threads = [threading.Thread(target=self._reader,
                                         args=(self.p.stdout, self.out),
                                         daemon=True),
                        threading.Thread(target=self._reader,
                                         args=(self.p.stderr, self.err),
                                         daemon=True)]
        for t in self.threads:
            t.start()
        if stdin_data is not None:
            self.write(stdin_data)
            self.close_stdin()

    def _reader(self, pipe, buf):
        while True:
            chunk = pipe.read1(65536)
            with self.lock:
                if not chunk:
                    self.lock.notify_all()
                    return
                buf.extend(chunk)
                self.lock.notify_all()

    def write(self, data):
        try:
            self.p.stdin.write(data)
            self.p.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def close_stdin(self):
        try:
            self.p.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def wait_for(self, pattern, stream="out", timeout=10.0):
        """Waits until pattern (a regex over the decoded stream) matches;
        returns the match or None on timeout / exit."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        with self.lock:
            while True:
                buf = {"out": self.out, "err": self.err,
                       "both": self.out + self.err}[stream]
                m = rx.search(buf.decode("utf-8", "replace"))
                if m:
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or (self.p.poll() is not None and
                                 not any(t.is_alive() for t in self.threads)):
                    return None
                self.lock.wait(min(left, 0.1))

    def finish(self, timeout=PROC_TIMEOUT):
        """Waits for exit (killing the child on timeout); returns rc."""
        self.close_stdin()
        left = max(0.1, PROC_TIMEOUT - (time.monotonic() - self.started))
        try:
            rc = self.p.wait(timeout=min(timeout, left))
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
            self.killed = True
        for t in self.threads:
            t.join(2)
        return rc

    def stop(self):
        """Ends a server that does not exit by itself."""
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.close_stdin()
        for t in self.threads:
            t.join(2)
        return self.p.returncode

    @property
    def stdout(self):
        return self.out.decode("utf-8", "replace")

    @property
    def stderr(self):
        return self.err.decode("utf-8", "replace")


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def is_listening(port):
    """Whether something listens on port, from /proc/net/tcp{,6} (so that
    probing does not make a connection the server would see)."""
    want = ":%04X" % port
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if cols[1].endswith(want) and cols[3] == "0A":
                        return True
        except OSError:
            return None
    return False


def wait_port(port, proc, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.p.poll() is None:
        state = is_listening(port)
        if state is None:  # no /proc: fall back to connecting
            try:
                socket.create_connection(("127.0.0.1", port),
                                         timeout=0.5).close()
                return True
            except OSError:
                pass
        elif state:
            return True
        time.sleep(0.05)
    return False


def tail(text, n=12):
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return "\n".join("      | " + ln for ln in lines[-n:])


# ---- the test PKI ----------------------------------------------------------

class PKI:
    """CA, server leaves of each key type, a client certificate and the bad
    certificates, made once per run with the openssl command."""

    def __init__(self, base):
        self.dir = base
        self.log = os.path.join(base, "openssl.log")

    def p(self, name):
        return os.path.join(self.dir, name)

    def run(self, *args):
        with open(self.log, "ab") as log:
            r = subprocess.run(["openssl"] + list(args), stdout=log,
                               stderr=log, timeout=60, cwd=self.dir)
        if r.returncode != 0:
            raise RuntimeError("openssl %s failed; see %s" %
                               (" ".join(args[:3]), self.log))

    def key(self, name, kind):
        out = self.p(name + ".key")
        if kind == "ecdsa-p256":
            self.run("genpkey", "-algorithm", "EC", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-out", out)
        elif kind == "ecdsa-p384":
            self.run("genpkey", "-algorithm", "EC", "-pkeyopt",
                     "ec_paramgen_curve:P-384", "-out", out)
        elif kind == "rsa2048":
            self.run("genpkey", "-algorithm", "RSA", "-pkeyopt",
                     "rsa_keygen_bits:2048", "-out", out)
        elif kind == "ed25519":
            self.run("genpkey", "-algorithm", "ED25519", "-out", out)
        else:
            raise ValueError(kind)
        return out

    def ca(self, name, cn, kind="ecdsa-p256", issuer=None):
        key = self.key(name, kind)
        ext = self.p(name + ".ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:TRUE\n"
                    "keyUsage=critical,keyCertSign,cRLSign\n"
                    "subjectKeyIdentifier=hash\n")
            if issuer:
                f.write("authorityKeyIdentifier=keyid\n")
        if issuer is None:
            self.run("req", "-x509", "-new", "-key", key, "-subj", "/CN=" + cn,
                     "-days", "30", "-out", self.p(name + ".pem"),
                     "-extensions", "v3", "-config", self.cnf(ext))
        else:
            self.sign(name, cn, key, issuer, ext, days="30")
        return self.p(name + ".pem")

    def cnf(self, ext):
        # req -x509 needs its extensions in a config section.
        path = ext + ".cnf"
        with open(path, "w") as f:
            f.write("[req]\ndistinguished_name=dn\n[dn]\n[v3]\n")
            f.write(open(ext).read())
        return path

    def sign(self, name, cn, key, issuer, ext, days="30"):
        csr = self.p(name + ".csr")
        self.run("req", "-new", "-key", key, "-subj", "/CN=" + cn, "-out", csr)
        serial = str(abs(hash((name, cn))) % (1 << 62) + 1)
        self.run("x509", "-req", "-in", csr, "-CA", self.p(issuer + ".pem"),
                 "-CAkey", self.p(issuer + ".key"), "-set_serial", serial,
                 "-days", days, "-extfile", ext, "-out",
                 self.p(name + ".pem"))

    def leaf(self, name, kind, issuer="ca", cn="localhost",
             san="DNS:localhost,IP:127.0.0.1", eku="serverAuth",
             days="30", self_signed=False):
        key = self.key(name, kind)
        ext = self.p(name + ".ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\n")
            if kind.startswith("rsa"):
                f.write("keyUsage=critical,digitalSignature,"
                        "keyEncipherment\n")
            else:
                f.write("keyUsage=critical,digitalSignature\n")
            f.write("extendedKeyUsage=%s\n" % eku)
            if san:
                f.write("subjectAltName=%s\n" % san)
        if self_signed:
            self.run("req", "-x509", "-new", "-key", key, "-subj", "/CN=" + cn,
                     "-days", days, "-out", self.p(name + ".pem"),
                     "-extensions", "v3", "-config", self.cnf(ext))
        else:
            self.sign(name, cn, key, issuer, ext, days=days)
        return self.p(name + ".pem"), key

    def crl(self, name, issuer, revoked):
        """A CRL from issuer that revokes the certificates named."""
        d = self.p(name + ".ca")
        os.makedirs(d, exist_ok=True)
        index = os.path.join(d, "index.txt")
        open(index, "w").close()
        with open(os.path.join(d, "crlnumber"), "w") as f:
            f.write("01\n")
        cnf = os.path.join(d, "ca.cnf")
        with open(cnf, "w") as f:
            f.write("[ca]\ndefault_ca=c\n[c]\ndatabase=%s\n"
                    "crlnumber=%s\ndefault_md=sha256\n"
                    "default_crl_days=30\n" %
                    (index, os.path.join(d, "crlnumber")))
        for r in revoked:
            self.run("ca", "-config", cnf, "-revoke", self.p(r + ".pem"),
                     "-keyfile", self.p(issuer + ".key"), "-cert",
                     self.p(issuer + ".pem"))
        self.run("ca", "-config", cnf, "-gencrl", "-keyfile",
                 self.p(issuer + ".key"), "-cert", self.p(issuer + ".pem"),
                 "-out", self.p(name + ".pem"))
        return self.p(name + ".pem")

    def chain(self, name, *parts):
        out = self.p(name + ".chain.pem")
        with open(out, "w") as f:
            for part in parts:
                f.write(open(self.p(part + ".pem")).read())
        return out

    def build(self):
        self.ca("ca", "moat interop CA")
        for kind in CERTS:
            self.leaf("server-" + kind, kind)
        self.leaf("client", "ecdsa-p256", cn="moat interop client",
                  san="DNS:client.localhost", eku="clientAuth")
        # Bad certificates for the negative cases.
        self.leaf("expired", "ecdsa-p256", days="-1")
        self.leaf("wronghost", "ecdsa-p256", cn="wrong.example",
                  san="DNS:wrong.example")
        self.leaf("selfsigned", "ecdsa-p256", self_signed=True)
        self.leaf("wrongeku", "ecdsa-p256", eku="clientAuth")
        self.ca("otherroot", "moat untrusted root")
        self.ca("otherint", "moat untrusted intermediate", issuer="otherroot")
        self.leaf("untrusted", "ecdsa-p256", issuer="otherint")
        self.chain("untrusted", "untrusted", "otherint")
        self.leaf("revoked", "ecdsa-p256")
        self.crl("crl", "ca", ["revoked"])
        # Issued by an intermediate under the trusted CA that the server
        # does not send.
        self.ca("trustedint", "moat interop intermediate", issuer="ca")
        self.leaf("needsint", "ecdsa-p256", issuer="trustedint")

    def server(self, kind):
        return self.p("server-%s.pem" % kind), self.p("server-%s.key" % kind)


# ---- parsing the tools' output ---------------------------------------------

def moat_client_params(text):
    """The "key: value" lines moat client prints after the handshake."""
    params = {}
    for line in text.splitlines():
        m = re.match(r"^  ([a-z-]+): (.*)$", line)
        if m and m.group(1) not in params:
            params[m.group(1)] = m.group(2).strip()
    return params


def moat_server_conn(text):
    """key=value pairs of the moat server's first connection line."""
    m = re.search(r"moat server: conn \d+ from \S+: (version=.*)", text)
    if not m:
        return None
    line = m.group(1)
    params = dict(re.findall(r'([a-z-]+)=("[^"]*"|\S+)', line))
    return {k: v.strip('"') for k, v in params.items()}


def moat_server_end(text):
    m = re.search(r"moat server: conn \d+ closed: end=(\S+)", text)
    return m.group(1) if m else None


def same_group(want, got):
    return got is not None and got.lower() in GROUP_ALIASES[want]


def check_moat_view(params, suite, group, cert=None, sig_key="peer-signature"):
    expect(params.get("version") in ("TLSv1.3", "TLS 1.3", "TLS1.3"),
           "moat reports version %r, want TLSv1.3" % params.get("version"))
    expect(params.get("cipher") == suite,
           "moat reports cipher %r, want %s" % (params.get("cipher"), suite))
    expect(same_group(group, params.get("group")),
           "moat reports group %r, want %s" % (params.get("group"), group))
    if cert is not None:
        got = params.get(sig_key) or ""
        expect(re.fullmatch(SIGALG[cert], got),
               "moat reports %s %r, want %s" % (sig_key, got, SIGALG[cert]))


# ---- the peers -------------------------------------------------------------

class Env:
    def __init__(self, moat, pki, verbose):
        self.moat = moat
        self.pki = pki
        self.verbose = verbose
        self.have_gnutls_serv = shutil.which("gnutls-serv") is not None
        self.have_gnutls_cli = shutil.which("gnutls-cli") is not None
        self.python = sys.executable or "python3"
        self.stdbuf = ["stdbuf", "-oL"] if shutil.which("stdbuf") else []


PAYLOAD = b"hello moat interop 0123456789\n"


def start_openssl_server(env, cert, suite, group, tls12=False, alpn=None,
                         sni=False, client_auth=False, chain=None,
                         msgs=False):
    crt, key = cert
    argv = ["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", crt,
            "-key", key, "-naccept", "1", "-rev"]
    if msgs:  # one line per TLS message, to see the KeyUpdates
        argv += ["-msg"]
    if chain:
        argv += ["-cert_chain", chain]
    if tls12:
        argv += ["-tls1_2"]
        if suite:
            argv += ["-cipher", openssl12_name(suite)]
    else:
        argv += ["-tls1_3", "-ciphersuites", suite]
    if group:
        argv += ["-groups", group]
    if alpn:
        argv += ["-alpn", alpn]
    if sni:
        argv += ["-servername", "localhost", "-cert2", crt, "-key2", key]
    if client_auth:
        argv += ["-Verify", "1", "-CAfile", env.pki.p("ca.pem")]
    srv = Proc(argv)
    m = srv.wait_for(r"ACCEPT 127\.0\.0\.1:(\d+)", timeout=10)
    if not m:
        srv.stop()
        raise CaseFailed("openssl s_server did not start:\n" +
                         tail(srv.stdout + srv.stderr))
    return srv, int(m.group(1))


def gnutls_priority(suite=None, groups=None, tls12=False):
    pr = "NORMAL:-VERS-ALL:" + ("+VERS-TLS1.2" if tls12 else "+VERS-TLS1.3")
    if suite:
        pr += ":-CIPHER-ALL:+" + GNUTLS_CIPHER[suite]
    if groups:
        pr += ":-GROUP-ALL" + "".join(":+GROUP-" + GNUTLS_GROUP[g]
                                      for g in groups.split(":"))
    return pr


def start_gnutls_server(env, cert, suite, group, tls12=False, alpn=None,
                        sni=False, client_auth=False):
    if not env.have_gnutls_serv:
        raise CaseSkipped("gnutls-serv not installed "
                          "(apt-get install gnutls-bin)")
    crt, key = cert
    for _attempt in range(3):
        port = free_port()
        # Line-buffered, so the session description survives the SIGTERM.
        argv = env.stdbuf + ["gnutls-serv", "--echo", "-p", str(port),
                             "--x509certfile",
                crt, "--x509keyfile", key,
                "--priority", gnutls_priority(suite, group, tls12)]
        if alpn:
            argv += ["--alpn", alpn]
        if sni:
            argv += ["--sni-hostname", "localhost", "--sni-hostname-fatal"]
        if client_auth:
            argv += ["--require-client-cert", "--verify-client-cert",
                     "--x509cafile", env.pki.p("ca.pem")]
        else:
            argv += ["--disable-client-cert"]
        srv = Proc(argv)
        if wait_port(port, srv, timeout=10):
            return srv, port
        srv.stop()
    raise CaseFailed("gnutls-serv did not start:\n" +
                     tail(srv.stdout + srv.stderr))


def start_python_server(env, cert, suite, group, tls12=False, alpn=None,
                        sni=False, client_auth=False):
    crt, key = cert
    argv = [env.python, os.path.abspath(__file__), "--py-server",
            "--cert", crt, "--key", key]
    if tls12 and suite:
        argv += ["--ciphers", openssl12_name(suite)]
    if group:
        argv += ["--curve", PY_CURVE[group]]
    if tls12:
        argv += ["--tls12-only"]
    if alpn:
        argv += ["--alpn", alpn]
    if client_auth:
        argv += ["--cafile", env.pki.p("ca.pem"), "--require-client"]
    srv = Proc(argv)
    m = srv.wait_for(r"listening on 127\.0\.0\.1:(\d+)", timeout=10)
    if not m:
        srv.stop()
        raise CaseFailed("python ssl server did not start:\n" +
                         tail(srv.stdout + srv.stderr))
    return srv, int(m.group(1))


SERVER_PEERS = {"openssl": start_openssl_server,
                "gnutls": start_gnutls_server,
                "python": start_python_server}


def run_moat_client(env, port, suite=None, groups=None, alpn=None,
                    cafile=None, servername="localhost", client_cert=False,
                    key_update=False, stdin=PAYLOAD, extra=()):
    argv = [env.moat, "client", "127.0.0.1:%d" % port,
            "--cafile", cafile or env.pki.p("ca.pem")]
    if servername:
        argv += ["--servername", servername]
    if suite:
        argv += ["--ciphers", suite]
    if groups:
        argv += ["--groups", groups]
    if alpn:
        argv += ["--alpn", alpn]
    if client_cert:
        argv += ["--cert", env.pki.p("client.pem"),
                 "--key", env.pki.p("client.key")]
    if key_update:
        argv += ["--key-update"]
    argv += list(extra)
    cli = Proc(argv, stdin_data=stdin)
    rc = cli.finish()
    return cli, rc


def expected_echo(peer, payload):
    if peer == "openssl":  # s_server -rev answers each line reversed
        return b"".join(ln[:-1][::-1] + b"\n"
                        for ln in payload.splitlines(keepends=True))
    return payload


# openssl -msg lines for a KeyUpdate received and sent.
OPENSSL_KU_RECEIVED = "<<< TLS 1.3, Handshake [length 0005], KeyUpdate"
OPENSSL_KU_SENT = ">>> TLS 1.3, Handshake [length 0005], KeyUpdate"


def check_key_update(moat_err, moat_line, peer, peer_out, answered):
    """moat says it sent a KeyUpdate asking for one back; OpenSSL, which
    can show its messages, must have received it and, when it wrote data
    afterwards (answered), sent its own first (RFC 8446 4.6.3)."""
    expect(moat_line in moat_err, "moat did not report sending KeyUpdate")
    if peer == "openssl":
        expect(OPENSSL_KU_RECEIVED in peer_out,
               "openssl received no KeyUpdate from moat")
        expect(not answered or OPENSSL_KU_SENT in peer_out,
               "openssl did not answer moat's update_requested")


def moat_client_case(env, peer, suite, group, cert, *, moat_groups=None,
                     alpn=None, server_alpn=None, sni=False,
                     client_auth=False, key_update=False, hrr=None,
                     check_close=False):
    msgs = {"msgs": True} if key_update and peer == "openssl" else {}
    srv, port = SERVER_PEERS[peer](env, env.pki.server(cert), suite, group,
                                   alpn=server_alpn or alpn, sni=sni,
                                   client_auth=client_auth, **msgs)
    try:
        payload = PAYLOAD
        if key_update:
            payload = PAYLOAD + b"second line after the key update\n"
        cli, rc = run_moat_client(env, port, suite=suite,
                                  groups=moat_groups or group, alpn=alpn,
                                  client_cert=client_auth,
                                  key_update=key_update, stdin=payload)
    finally:
        srv_rc = srv.stop() if peer == "gnutls" else srv.finish(5)
    diag = "\n    moat client said:\n" + tail(cli.stderr) + \
        "\n    %s server said:\n" % peer + tail(srv.stdout + srv.stderr)
    try:
        expect(rc == 0, "moat client exited %s" % rc)
        params = moat_client_params(cli.stderr)
        check_moat_view(params, suite, group, cert)
        want = expected_echo(peer, payload)
        expect(cli.out == want, "data did not round-trip: sent %r, got %r" %
               (payload, bytes(cli.out)))
        if hrr is not None:
            expect(params.get("hello-retry") == ("yes" if hrr else "no"),
                   "hello-retry %r, want %s" % (params.get("hello-retry"),
                                                "yes" if hrr else "no"))
        if alpn:
            want_alpn = alpn_choice(server_alpn or alpn, alpn)
            expect(params.get("alpn") == want_alpn,
                   "moat reports ALPN %r, want %s" % (params.get("alpn"),
                                                     want_alpn))
        if check_close:
            expect("peer sent close_notify" in cli.stderr,
                   "moat did not see the peer's close_notify")
        if key_update:
            # s_server -rev writes the answer after the KeyUpdate came.
            check_key_update(cli.stderr, "moat: sent KeyUpdate", peer,
                             srv.stdout + srv.stderr, answered=True)
        # The peer's own view, where it prints one.
        sout = srv.stdout + srv.stderr
        if peer == "openssl":
            expect("Ciphersuite: %s" % suite in sout,
                   "s_server did not report %s" % suite)
            if sni:
                expect('Hostname in TLS extension: "localhost"' in sout,
                       "s_server did not see SNI localhost")
            if client_auth:
                expect("moat interop client" in sout,
                       "s_server did not report the client certificate")
        elif peer == "gnutls":
            d = re.search(r"- Description: (\S+)", srv.stdout)
            expect(d, "gnutls-serv printed no session description")
            desc = d.group(1)
            expect("TLS1.3" in desc and GNUTLS_CIPHER[suite] in desc and
                   GNUTLS_GROUP[group] in desc and GNUTLS_SIG[cert] in desc,
                   "gnutls-serv negotiated %s" % desc)
            if sni:
                expect("server name[1]: localhost" in srv.stdout,
                       "gnutls-serv did not see SNI localhost")
        elif peer == "python":
            info = py_result(srv.stdout)
            expect(info is not None, "python server printed no result")
            expect(info.get("version") == "TLSv1.3",
                   "python server reports %r" % info.get("version"))
            expect(info.get("cipher") == suite,
                   "python server reports cipher %r" % info.get("cipher"))
            if alpn:
                expect(info.get("alpn") == want_alpn,
                       "python server reports ALPN %r" % info.get("alpn"))
            if client_auth:
                expect("moat interop client" in (info.get("peer") or ""),
                       "python server saw no client certificate")
            if check_close:
                expect(info.get("close") == "close_notify",
                       "python server saw %r, not close_notify" %
                       info.get("close"))
            if sni:
                expect(info.get("sni") == "localhost",
                       "python server saw SNI %r" % info.get("sni"))
    except CaseFailed as e:
        raise CaseFailed(str(e) + diag)
    return "ok"


def alpn_choice(server_list, client_list):
    """RFC 7301 3.2: the server picks from its own preference order."""
    offered = client_list.split(",")
    for proto in server_list.split(","):
        if proto in offered:
            return proto
    return None


def py_result(text):
    for line in text.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return None


# ---- moat as the server ------------------------------------------------------

def start_moat_server(env, cert, suite=None, groups=None, alpn=None,
                      client_auth=False, key_update=False, extra=(),
                      once=True):
    crt, key = cert
    argv = [env.moat, "server", "--port", "0", "--cert", crt, "--key", key]
    if once:
        argv += ["--once"]
    if suite:
        argv += ["--ciphers", suite]
    if groups:
        argv += ["--groups", groups]
    if alpn:
        argv += ["--alpn", alpn]
    if client_auth:
        argv += ["--cafile", env.pki.p("ca.pem"), "--verify-client"]
    if key_update:
        argv += ["--key-update"]
    argv += list(extra)
    srv = Proc(argv)
    m = srv.wait_for(r"listening on 127\.0\.0\.1:(\d+)", timeout=10)
    if not m:
        srv.stop()
        raise CaseFailed("moat server did not start:\n" +
                         tail(srv.stdout + srv.stderr))
    return srv, int(m.group(1))


def openssl_client(env, port, suite, group, alpn=None, client_auth=False,
                   key_update=False, tls12=False, sni="localhost",
                   msgs=False):
    argv = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
            "-CAfile", env.pki.p("ca.pem"), "-verify_return_error"]
    if msgs:
        argv += ["-msg"]
    if sni:
        argv += ["-servername", sni, "-verify_hostname", sni]
    if tls12:
        argv += ["-tls1_2"]
        if suite:
            argv += ["-cipher", openssl12_name(suite)]
    else:
        argv += ["-tls1_3"]
        if suite:
            argv += ["-ciphersuites", suite]
    if group:
        argv += ["-groups", group]
    if alpn:
        argv += ["-alpn", alpn]
    if client_auth:
        argv += ["-cert", env.pki.p("client.pem"),
                 "-key", env.pki.p("client.key")]
    cli = Proc(argv)
    echoed = talk(cli, key_update, "K\n", r"KEYUPDATE")
    return cli, echoed


def gnutls_client(env, port, suite, group, alpn=None, client_auth=False,
                  key_update=False, tls12=False):
    if not env.have_gnutls_cli:
        raise CaseSkipped("gnutls-cli not installed "
                          "(apt-get install gnutls-bin)")
    argv = ["gnutls-cli", "-p", str(port), "127.0.0.1",
            "--x509cafile", env.pki.p("ca.pem"),
            "--verify-hostname", "localhost", "--sni-hostname", "localhost",
            "--priority", gnutls_priority(suite, group, tls12),
            "--inline-commands", "--single-key-share"]
    if alpn:
        argv += ["--alpn", alpn]
    if client_auth:
        argv += ["--x509certfile", env.pki.p("client.pem"),
                 "--x509keyfile", env.pki.p("client.key")]
    cli = Proc(argv)
    echoed = talk(cli, key_update, "^rekey^\n", r"Rekey was completed")
    return cli, echoed


def python_client(env, port, suite, group, alpn=None, client_auth=False,
                  key_update=False, tls12=False):
    argv = [env.python, os.path.abspath(__file__), "--py-client",
            "--port", str(port), "--cafile", env.pki.p("ca.pem"),
            "--servername", "localhost"]
    if group and ":" not in group:  # Python sets one curve at most
        argv += ["--curve", PY_CURVE[group]]
    if alpn:
        argv += ["--alpn", alpn]
    if client_auth:
        argv += ["--cert", env.pki.p("client.pem"),
                 "--key", env.pki.p("client.key")]
    if tls12:
        argv += ["--tls12-only"]
        if suite:
            argv += ["--ciphers", openssl12_name(suite)]
    cli = Proc(argv)
    cli.finish()
    info = py_result(cli.stdout) or {}
    return cli, info.get("echo_ok", False)


def talk(cli, key_update, ku_cmd, ku_done):
    """Sends a line, waits for its echo; with key_update also sends the
    tool's KeyUpdate command and a second line; then ends stdin."""
    ok = False
    cli.write(b"first line from the peer\n")
    if cli.wait_for(r"first line from the peer", timeout=10):
        ok = True
        if key_update:
            cli.write(ku_cmd.encode())
            ok = cli.wait_for(ku_done, "both", timeout=10) is not None
            cli.write(b"second line after key update\n")
            ok = ok and cli.wait_for(r"second line after key update",
                                     timeout=10) is not None
    cli.close_stdin()
    cli.finish()
    return ok


CLIENT_PEERS = {"openssl": openssl_client, "gnutls": gnutls_client,
                "python": python_client}


def moat_server_case(env, peer, suite, group, cert, *, server_groups=None,
                     client_groups="same", alpn=None, server_alpn=None, client_auth=False,
                     key_update=False, hrr=None, check_close=False,
                     peer_key_update=False):
    srv, port = start_moat_server(env, env.pki.server(cert), suite=suite,
                                  groups=server_groups or group,
                                  alpn=server_alpn or alpn,
                                  client_auth=client_auth,
                                  key_update=key_update)
    msgs = {"msgs": True} if key_update and peer == "openssl" else {}
    try:
        cli, echoed = CLIENT_PEERS[peer](env, port, suite,
                                         group if client_groups == "same"
                                         else client_groups,
                                         alpn=alpn, client_auth=client_auth,
                                         key_update=peer_key_update, **msgs)
    finally:
        srv_rc = srv.finish(5)
        srv.stop()
    diag = "\n    moat server said:\n" + tail(srv.stderr) + \
        "\n    %s client said:\n" % peer + tail(cli.stdout + cli.stderr, 25)
    try:
        conn = moat_server_conn(srv.stderr)
        expect(conn is not None, "moat server reported no handshake")
        expect(srv_rc == 0, "moat server exited with %s" % srv_rc)
        check_moat_view(conn, suite, group, cert, sig_key="sigalg")
        expect(echoed, "data did not round-trip through the moat server")
        if hrr is not None:
            expect(conn.get("hrr") == ("yes" if hrr else "no"),
                   "moat server hrr=%r, want %s" %
                   (conn.get("hrr"), "yes" if hrr else "no"))
        want_alpn = alpn_choice(server_alpn or alpn, alpn) if alpn else None
        if alpn:
            expect(conn.get("alpn") == want_alpn,
                   "moat server ALPN %r, want %s" % (conn.get("alpn"),
                                                    want_alpn))
        expect(conn.get("sni") == "localhost",
               "moat server saw SNI %r" % conn.get("sni"))
        if client_auth:
            expect("moat interop client" in conn.get("client-cert", ""),
                   "moat server saw client certificate %r" %
                   conn.get("client-cert"))
        if check_close:
            end = moat_server_end(srv.stderr)
            expect(end == "close_notify",
                   "moat server connection ended with %r" % end)
        if key_update:
            # s_client may have written its line before the KeyUpdate
            # came, and answers only with its next write.
            check_key_update(srv.stderr, ": sent KeyUpdate", peer,
                             cli.stdout + cli.stderr, answered=False)
        out = cli.stdout
        if peer == "openssl":
            expect("New, TLSv1.3, Cipher is %s" % suite in out,
                   "s_client did not negotiate TLSv1.3 with %s" % suite)
            expect(re.search(r"Server Temp Key: (ECDH, )?%s" %
                             OPENSSL_TEMPKEY[group], out),
                   "s_client did not use group %s" % group)
            expect(re.search(r"Peer signature type: %s\b" %
                             OPENSSL_SIGTYPE[cert], out, re.I),
                   "s_client saw another signature type")
            expect("Verify return code: 0 (ok)" in out,
                   "s_client did not verify the moat server's certificate")
            if alpn:
                expect("ALPN protocol: %s" % want_alpn in out,
                       "s_client did not negotiate ALPN")
        elif peer == "gnutls":
            d = re.search(r"- Description: (\S+)", out)
            expect(d, "gnutls-cli printed no session description")
            desc = d.group(1)
            expect("TLS1.3" in desc and GNUTLS_CIPHER[suite] in desc and
                   GNUTLS_GROUP[group] in desc and GNUTLS_SIG[cert] in desc,
                   "gnutls-cli negotiated %s" % desc)
            expect("The certificate is trusted" in out,
                   "gnutls-cli did not trust the moat server's certificate")
            if alpn:
                expect(re.search(r"Application protocol: %s" %
                                 re.escape(want_alpn), out),
                       "gnutls-cli did not negotiate ALPN")
        elif peer == "python":
            info = py_result(out) or {}
            expect(info.get("version") == "TLSv1.3",
                   "python client reports %r" % info.get("version"))
            expect(info.get("cipher") == suite,
                   "python client reports cipher %r" % info.get("cipher"))
            if alpn:
                expect(info.get("alpn") == want_alpn,
                       "python client reports ALPN %r" % info.get("alpn"))
    except CaseFailed as e:
        raise CaseFailed(str(e) + diag)
    return "ok"


# ---- negative cases ----------------------------------------------------------

def tls12_peer_server(env, peer):
    """A TLS 1.2-only server: the default moat client (1.2 and 1.3) speaks
    TLS 1.2 with it; a moat client limited to TLS 1.3 refuses it."""
    srv, port = SERVER_PEERS[peer](env, env.pki.server("ecdsa-p256"), None,
                                   None, tls12=True)
    try:
        cli, rc = run_moat_client(env, port)
    finally:
        srv.stop()
    diag = "\n    moat client said:\n" + tail(cli.stderr)
    expect(rc == 0 and re.search(r"version: TLSv1\.2", cli.stderr) and
           cli.out == expected_echo(peer, PAYLOAD),
           "the moat client did not speak TLS 1.2 with a 1.2-only server" +
           diag)
    srv, port = SERVER_PEERS[peer](env, env.pki.server("ecdsa-p256"), None,
                                   None, tls12=True)
    try:
        cli, rc = run_moat_client(env, port, extra=["--tls1.3"])
    finally:
        srv.stop()
    diag = "\n    moat client said:\n" + tail(cli.stderr)
    expect(rc != 0, "moat client --tls1.3 accepted a TLS 1.2-only server" +
           diag)
    # Either moat refuses the ServerHello, or the peer refuses moat's
    # TLS 1.3-only ClientHello: OpenSSL and Python with protocol_version,
    # GnuTLS (which finds no TLS 1.2 suite in it) with handshake_failure.
    peer_alert = "handshake_failure" if peer == "gnutls" else \
        "protocol_version"
    expect(re.search(r"handshake failed: (PROTOCOL_VERSION|ALERT_RECEIVED.*"
                     r"%s)" % peer_alert, cli.stderr),
           "moat did not fail with a protocol-version error" + diag)
    return "ok"


def tls12_peer_client(env, peer):
    """A TLS 1.2-only client: the default moat server speaks TLS 1.2 with
    it; a moat server limited to TLS 1.3 refuses it with protocol_version."""
    srv, port = start_moat_server(env, env.pki.server("ecdsa-p256"))
    try:
        cli, echoed = CLIENT_PEERS[peer](env, port, None, None, tls12=True)
    finally:
        srv.finish(5)
        srv.stop()
    diag = "\n    moat server said:\n" + tail(srv.stderr)
    expect(echoed and re.search(r"version=TLSv1\.2", srv.stderr),
           "a TLS 1.2-only client did not get TLS 1.2" + diag)
    srv, port = start_moat_server(env, env.pki.server("ecdsa-p256"),
                                  extra=["--tls1.3"])
    try:
        cli, echoed = CLIENT_PEERS[peer](env, port, None, None, tls12=True)
    finally:
        srv.finish(5)
        srv.stop()
    diag = "\n    moat server said:\n" + tail(srv.stderr)
    expect(not echoed, "a TLS 1.2-only client exchanged data with a "
           "--tls1.3 server" + diag)
    expect(re.search(r"handshake failed: PROTOCOL_VERSION", srv.stderr),
           "moat server did not fail with PROTOCOL_VERSION" + diag)
    return "ok"


# name -> (certificate, chain or None, servername, reason regex)
BAD_CERTS = {
    "expired": ("expired", None, "localhost", r"expired"),
    "wrong-host": ("wronghost", None, "localhost",
                   r"HOSTNAME_MISMATCH|[Hh]ost ?name"),
    "self-signed": ("selfsigned", None, "localhost", r"self[- ]signed"),
    "untrusted-intermediate": ("untrusted", "otherint", "localhost",
                               r"local issuer|issuer certificate|untrusted|"
                               r"not trusted"),
    "wrong-eku": ("wrongeku", None, "localhost",
                  r"purpose|EKU|[Ee]xtended key usage|serverAuth"),
    "revoked": ("revoked", None, "localhost", r"revoked"),
}


def bad_cert_case(env, name):
    leaf, chain, servername, reason = BAD_CERTS[name]
    crt = env.pki.p(leaf + ".pem")
    key = env.pki.p(leaf + ".key")
    srv, port = start_openssl_server(
        env, (crt, key), "TLS_AES_128_GCM_SHA256", None,
        chain=env.pki.p(chain + ".pem") if chain else None)
    try:
        cli, rc = run_moat_client(env, port, servername=servername,
                                  extra=["--crl", env.pki.p("crl.pem")])
    finally:
        srv.stop()
    diag = "\n    moat client said:\n" + tail(cli.stderr)
    expect(rc != 0, "moat client accepted the %s certificate" % name + diag)
    line = re.search(r"handshake failed: (.*)", cli.stderr)
    expect(line, "moat client printed no handshake failure line" + diag)
    expect(re.search(r"\[verify\]|CERT|HOSTNAME", line.group(1)),
           "the failure is not a verify error" + diag)
    expect(re.search(reason, line.group(1)),
           "the failure does not name the reason (%s)" % reason + diag)
    return "ok"


def crl_accepts_good(env):
    """CRL checking on: a certificate the CRL does not list still passes."""
    srv, port = start_openssl_server(env, env.pki.server("ecdsa-p256"),
                                     "TLS_AES_128_GCM_SHA256", None)
    try:
        cli, rc = run_moat_client(env, port,
                                  extra=["--crl", env.pki.p("crl.pem")])
    finally:
        srv.finish(5)
    expect(rc == 0 and cli.out == expected_echo("openssl", PAYLOAD),
           "moat client with --crl refused a good certificate\n" +
           tail(cli.stderr))
    return "ok"


def resumption_moat_client(env):
    """moat client resumes with openssl s_server's ticket."""
    crt, key = env.pki.server("ecdsa-p256")
    srv = Proc(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", crt,
                "-key", key, "-naccept", "2", "-rev", "-tls1_3"])
    m = srv.wait_for(r"ACCEPT 127\.0\.0\.1:(\d+)", timeout=10)
    if not m:
        srv.stop()
        raise CaseFailed("openssl s_server did not start")
    port = int(m.group(1))
    sess = env.pki.p("resume-%d.bin" % port)
    try:
        cli1, rc1 = run_moat_client(env, port, extra=["--sess-out", sess])
        cli2, rc2 = run_moat_client(env, port, extra=["--sess-in", sess])
    finally:
        srv.finish(5)
    expect(rc1 == 0 and re.search(r"resumed: no", cli1.stderr),
           "first connection failed or resumed\n" + tail(cli1.stderr))
    expect(rc2 == 0 and re.search(r"resumed: yes", cli2.stderr),
           "second connection did not resume\n" + tail(cli2.stderr))
    # The file holds the resumption PSK.
    mode = os.stat(sess).st_mode & 0o777
    expect(mode & 0o077 == 0, "session file mode %o, want 600" % mode)
    expect(cli2.out == expected_echo("openssl", PAYLOAD),
           "no data after resumption\n" + tail(cli2.stderr))
    return "ok"


def exporter_case(env, version):
    """moat's exporter (RFC 5705 for TLS 1.2, RFC 8446 7.5 for 1.3) gives
    the same bytes as OpenSSL's for the same connection."""
    crt, key = env.pki.server("ecdsa-p256")
    srv = Proc(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", crt,
                "-key", key, "-naccept", "1", "-" + version,
                "-keymatexport", "EXPERIMENTAL-moat",
                "-keymatexportlen", "32"])
    m = srv.wait_for(r"ACCEPT 127\.0\.0\.1:(\d+)", timeout=10)
    if not m:
        srv.stop()
        raise CaseFailed("openssl s_server did not start")
    try:
        cli, rc = run_moat_client(env, int(m.group(1)),
                                  extra=["--export", "EXPERIMENTAL-moat:32"])
        theirs = srv.wait_for(r"Keying material: ([0-9A-F]+)", timeout=10)
    finally:
        srv.stop()
    ours = re.search(r"exporter: ([0-9A-F]+)", cli.stderr)
    expect(rc == 0 and ours and theirs and
           ours.group(1) == theirs.group(1),
           "exporters differ: moat %s, OpenSSL %s\n" %
           (ours and ours.group(1), theirs and theirs.group(1)) +
           tail(cli.stderr))
    return "ok"


def session_big_ticket(env):
    """A saved session whose ticket is larger than 4 KiB (RFC 8446 4.6.1
    allows 2^16-1 bytes) loads whole: the moat client offers it, the
    server does not know it, and the handshake falls back to a full one.
    A file larger than any session is refused with a reason."""
    crt, key = env.pki.server("ecdsa-p256")
    srv = Proc(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", crt,
                "-key", key, "-naccept", "2", "-rev", "-tls1_3"])
    m = srv.wait_for(r"ACCEPT 127\.0\.0\.1:(\d+)", timeout=10)
    if not m:
        srv.stop()
        raise CaseFailed("openssl s_server did not start")
    port = int(m.group(1))
    sess = env.pki.p("big-ticket-%d.bin" % port)
    try:
        cli1, rc1 = run_moat_client(env, port, extra=["--sess-out", sess])
        expect(rc1 == 0, "first connection failed\n" + tail(cli1.stderr))
        with open(sess, "rb") as f:
            raw = f.read()
        # format(1) version(2) ems(1) session_id<0..32> suite(2)
        # group(2, format 3) created(8) lifetime(4) age_add(4)
        # psk<1..255>, then ticket<0..2^16-1>, verify_code(4) and the
        # server's chain (a count, then certificate<1..2^24-1> each):
        # none here.
        expect(raw[0] == 3, "session format %d, not 3" % raw[0])
        at = 5 + raw[4] + 20
        state = raw[:at + 1 + raw[at]]
        big = (state + struct.pack(">H", 5000) + bytes(range(250)) * 20 +
               bytes(5))
        with open(sess, "wb") as f:
            f.write(big)
        cli2, rc2 = run_moat_client(env, port, extra=["--sess-in", sess])
    finally:
        srv.finish(5)
    expect(rc2 == 0 and re.search(r"resumed: no", cli2.stderr) and
           cli2.out == expected_echo("openssl", PAYLOAD),
           "a session with a 5000-byte ticket was not offered\n" +
           tail(cli2.stderr))
    with open(sess, "wb") as f:
        f.write(big + bytes(70000))
    # The file is read once connected: a listener that never answers.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as ls:
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)
        rc, out, err = run_moat(env, "client", "127.0.0.1:%d" %
                                ls.getsockname()[1], "--sess-in", sess)
    expect(rc != 0 and "larger than a session can be" in err,
           "an oversized session file: rc %d\n%s" % (rc, tail(err)))
    return "ok"


def resumption_moat_server(env):
    """openssl s_client resumes with moat server's ticket."""
    srv, port = start_moat_server(env, env.pki.server("ecdsa-p256"),
                                  once=False)
    sess = env.pki.p("resume-srv-%d.pem" % port)
    outs = []
    try:
        for extra in (["-sess_out", sess], ["-sess_in", sess]):
            cli = Proc(["openssl", "s_client", "-connect",
                        "127.0.0.1:%d" % port, "-CAfile",
                        env.pki.p("ca.pem"), "-servername", "localhost",
                        "-verify_return_error", "-tls1_3"] + extra)
            # Keep stdin open until the echo is back: by then the tickets,
            # sent right after the handshake, have arrived too.
            cli.write(PAYLOAD)
            cli.wait_for(re.escape(PAYLOAD.decode().strip()), timeout=10)
            cli.finish(10)
            outs.append(cli.stdout)
    finally:
        srv.stop()
    expect(re.search(r"^New, TLSv1\.3", outs[0], re.M),
           "first s_client connection not new\n" + tail(outs[0]))
    expect(re.search(r"^Reused, TLSv1\.3", outs[1], re.M),
           "s_client did not resume with moat's ticket\n" + tail(outs[1]))
    return "ok"


def start_openssl_server_argv(env, extra, naccept=1, rev=True):
    """openssl s_server (TLS 1.3; rev: echo reversed, else it prints what
    it reads) with extra options."""
    crt, key = env.pki.server("ecdsa-p256")
    srv = Proc(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", crt,
                "-key", key, "-naccept", str(naccept), "-tls1_3"] +
               (["-rev"] if rev else []) + list(extra))
    m = srv.wait_for(r"ACCEPT 127\.0\.0\.1:(\d+)", timeout=10)
    if not m:
        srv.stop()
        raise CaseFailed("openssl s_server did not start:\n" +
                         tail(srv.stdout + srv.stderr))
    return srv, int(m.group(1))


def moat_client_against(env, server_extra, *, groups=None, hrr=None):
    """The moat client against an s_server with options that change how it
    writes: the echo must come back and the handshake be as expected."""
    srv, port = start_openssl_server_argv(env, server_extra)
    try:
        cli, rc = run_moat_client(env, port, groups=groups)
    finally:
        srv.finish(5)
    diag = "\n    moat client said:\n" + tail(cli.stderr) + \
        "\n    openssl server said:\n" + tail(srv.stdout + srv.stderr)
    expect(rc == 0, "moat client exited %s" % rc + diag)
    expect(cli.out == expected_echo("openssl", PAYLOAD),
           "data did not round-trip" + diag)
    if hrr is not None:
        got = moat_client_params(cli.stderr).get("hello-retry")
        expect(got == ("yes" if hrr else "no"),
               "hello-retry %r, want %s" % (got, "yes" if hrr else "no") +
               diag)
    return "ok"


def resumption_sha384_hrr(env):
    """A SHA-384 ticket, resumed after a HelloRetryRequest both times (the
    server only takes P-256, the moat client sends an X25519 share first):
    the binder's hash must follow the ticket's suite and the transcript
    must restart with message_hash (RFC 8446 4.1.4, 4.2.11)."""
    srv, port = start_openssl_server_argv(
        env, ["-ciphersuites", "TLS_AES_256_GCM_SHA384", "-groups", "P-256"],
        naccept=2)
    sess = env.pki.p("resume384-%d.bin" % port)
    try:
        cli1, rc1 = run_moat_client(env, port, groups="X25519:P-256",
                                    extra=["--sess-out", sess])
        cli2, rc2 = run_moat_client(env, port, groups="X25519:P-256",
                                    extra=["--sess-in", sess])
    finally:
        srv.finish(5)
    p1, p2 = moat_client_params(cli1.stderr), moat_client_params(cli2.stderr)
    expect(rc1 == 0 and p1.get("resumed") == "no" and
           p1.get("hello-retry") == "yes",
           "first connection\n" + tail(cli1.stderr))
    expect(rc2 == 0 and p2.get("resumed") == "yes" and
           p2.get("hello-retry") == "yes" and
           p2.get("cipher") == "TLS_AES_256_GCM_SHA384",
           "second connection did not resume after the retry\n" +
           tail(cli2.stderr))
    expect(cli2.out == expected_echo("openssl", PAYLOAD),
           "no data after resumption\n" + tail(cli2.stderr))
    return "ok"


def resumption_gnutls_server(env):
    """moat client resumes with gnutls-serv's ticket (a second TLS 1.3
    implementation of tickets, ages and binders)."""
    srv, port = start_gnutls_server(env, env.pki.server("ecdsa-p256"),
                                    "TLS_AES_128_GCM_SHA256", "X25519")
    sess = env.pki.p("resume-gnutls-%d.bin" % port)
    try:
        cli1, rc1 = run_moat_client(env, port, extra=["--sess-out", sess])
        cli2, rc2 = run_moat_client(env, port, extra=["--sess-in", sess])
    finally:
        srv.stop()
    p1, p2 = moat_client_params(cli1.stderr), moat_client_params(cli2.stderr)
    expect(rc1 == 0 and p1.get("resumed") == "no",
           "first connection\n" + tail(cli1.stderr))
    expect(rc2 == 0 and p2.get("resumed") == "yes",
           "second connection did not resume\n" + tail(cli2.stderr))
    expect(cli2.out == expected_echo("gnutls", PAYLOAD),
           "no data after resumption\n" + tail(cli2.stderr))
    return "ok"


def optional_client_cert(env):
    """s_server asks for a certificate but does not require one (-verify):
    the moat client, which has none, answers with an empty Certificate
    (RFC 8446 4.4.2) and the connection goes on."""
    srv, port = start_openssl_server_argv(
        env, ["-verify", "1", "-CAfile", env.pki.p("ca.pem"), "-msg"])
    try:
        cli, rc = run_moat_client(env, port)
    finally:
        srv.finish(5)
    diag = "\n    moat client said:\n" + tail(cli.stderr) + \
        "\n    openssl server said:\n" + tail(srv.stdout + srv.stderr)
    expect(rc == 0 and cli.out == expected_echo("openssl", PAYLOAD),
           "no round trip with an optional client certificate" + diag)
    out = srv.stdout + srv.stderr
    expect(">>> TLS 1.3, Handshake [length" in out and
           "CertificateRequest" in out,
           "s_server sent no CertificateRequest" + diag)
    # An empty Certificate: the 4-byte header, request context <0> and an
    # empty certificate_list (-msg counts the header in the length).
    expect("<<< TLS 1.3, Handshake [length 0008], Certificate" in out and
           "No peer certificate" in out,
           "the moat client did not answer with an empty Certificate" + diag)
    return "ok"


def early_data_to_moat_server(env):
    """openssl s_client sends 0-RTT data to the moat server with a session
    from an OpenSSL server that allows early data (as behind a load
    balancer whose members differ): moat cannot open that ticket, makes a
    full handshake and must skip the early records it cannot decrypt (RFC
    8446 4.2.10), then echo what comes after."""
    ossl, oport = start_openssl_server_argv(env, ["-early_data"], rev=False)
    sess = env.pki.p("early-%d.pem" % oport)
    early = env.pki.p("early-%d.txt" % oport)
    with open(early, "wb") as f:
        f.write(b"early data moat must skip\n")
    try:
        cli = Proc(["openssl", "s_client", "-connect", "127.0.0.1:%d" % oport,
                    "-CAfile", env.pki.p("ca.pem"), "-servername",
                    "localhost", "-verify_return_error", "-tls1_3",
                    "-sess_out", sess])
        cli.write(PAYLOAD)
        # The server prints what it read: by then its ticket has arrived.
        ossl.wait_for(re.escape(PAYLOAD.decode().strip()), timeout=10)
        cli.finish(10)
        first = cli.stdout
    finally:
        ossl.stop()
    expect(re.search(r"Max Early Data: [1-9]", first),
           "the OpenSSL server's ticket allows no early data\n" +
           tail(first))
    srv, port = start_moat_server(env, env.pki.server("ecdsa-p256"))
    try:
        cli = Proc(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                    "-CAfile", env.pki.p("ca.pem"), "-servername",
                    "localhost", "-verify_return_error", "-tls1_3",
                    "-sess_in", sess, "-early_data", early])
        cli.write(PAYLOAD)
        cli.wait_for(re.escape(PAYLOAD.decode().strip()), timeout=10)
        cli.finish(10)
        out = cli.stdout + cli.stderr
    finally:
        srv.stop()
    diag = "\n    s_client said:\n" + tail(out) + \
        "\n    moat server said:\n" + tail(srv.stderr)
    expect("Early data was rejected" in out,
           "s_client sent no early data, or it was accepted" + diag)
    expect(re.search(r"^New, TLSv1\.3", out, re.M),
           "not a full handshake" + diag)
    expect(PAYLOAD.decode().strip() in out,
           "no echo after the skipped early data" + diag)
    expect("early data moat must skip" not in out + srv.stderr,
           "the early data came back" + diag)
    return "ok"


def insecure_accepts_selfsigned(env):
    crt = env.pki.p("selfsigned.pem")
    key = env.pki.p("selfsigned.key")
    srv, port = start_openssl_server(env, (crt, key), "TLS_AES_128_GCM_SHA256",
                                     None)
    try:
        cli, rc = run_moat_client(env, port, extra=["--insecure"])
    finally:
        srv.finish(5)
    expect(rc == 0 and cli.out == expected_echo("openssl", PAYLOAD),
           "moat client --insecure did not talk to a self-signed server\n" +
           tail(cli.stderr))
    # It does not claim a verification that did not happen, and says what
    # one would have found.
    expect("verify: 0 (ok)" not in cli.stderr and
           re.search(r"verify: skipped \(verification is off\); it would "
                     r"have failed: .*self-signed.* \(code 18\)", cli.stderr),
           "moat client --insecure on a self-signed server:\n" +
           tail(cli.stderr))
    for leaf, want in (("expired", r"it would have failed: certificate has "
                        r"expired.* \(code 10\)"),
                       ("server-ecdsa-p256", r"it would have passed")):
        srv, port = start_openssl_server(
            env, (env.pki.p(leaf + ".pem"), env.pki.p(leaf + ".key")),
            "TLS_AES_128_GCM_SHA256", None)
        try:
            cli, rc = run_moat_client(env, port, extra=["--insecure"])
        finally:
            srv.finish(5)
        expect(rc == 0 and re.search(r"verify: skipped \(verification is "
                                     r"off\); " + want, cli.stderr),
               "moat client --insecure, %s certificate:\n%s" %
               (leaf, tail(cli.stderr)))
    return "ok"


# ---- application data of many sizes -----------------------------------------

# Writes of these sizes, each its own sendall, so the peer's records range
# from one byte to the 16384-byte maximum (larger writes span several
# records), with bursts of tiny records that arrive together.  The first
# write is larger than 8 KiB and larger than one record.
DATA_SIZES = ([16385, 1, 2, 3, 100, 1000, 16383, 16384, 5, 40000] +
              [1] * 40 + [7] * 20 + [70000, 17])


def sized_chunks():
    data = bytes((i * 131 + 7) & 0xff for i in range(sum(DATA_SIZES)))
    out, off = [], 0
    for n in DATA_SIZES:
        out.append(data[off:off + n])
        off += n
    return data, out


def sizes_to_moat_client(env, read_size):
    """A Python ssl server sends records of many sizes; the moat client,
    reading read_size bytes at a time (records larger than its buffer,
    several records per read), must pass every byte on in order."""
    crt, key = env.pki.server("ecdsa-p256")
    srv = Proc([env.python, os.path.abspath(__file__), "--py-sizes-server",
                "--cert", crt, "--key", key])
    m = srv.wait_for(r"listening on 127\.0\.0\.1:(\d+)", timeout=10)
    if not m:
        srv.stop()
        raise CaseFailed("python ssl server did not start:\n" +
                         tail(srv.stdout + srv.stderr))
    extra = ["--read-size", str(read_size)] if read_size else []
    try:
        cli, rc = run_moat_client(env, int(m.group(1)), stdin=b"send\n",
                                  extra=extra)
    finally:
        srv.finish(10)
    diag = "\n    moat client said:\n" + tail(cli.stderr) + \
        "\n    python server said:\n" + tail(srv.stdout + srv.stderr)
    data, _ = sized_chunks()
    got = bytes(cli.out)
    expect(rc == 0, "moat client exited %s" % rc + diag)
    expect(len(got) == len(data),
           "moat client passed on %d bytes of %d" % (len(got), len(data)) +
           diag)
    if got != data:
        first = next(i for i in range(len(data)) if got[i] != data[i])
        raise CaseFailed("the bytes differ from byte %d" % first + diag)
    info = py_result(srv.stdout) or {}
    expect(info.get("sent") == len(data) and "error" not in info,
           "python server: %r" % info + diag)
    return "ok"


def sizes_to_moat_server(env):
    """A Python ssl client sends records of many sizes to the moat server's
    echo while reading the echo; every byte must come back in order."""
    srv, port = start_moat_server(env, env.pki.server("ecdsa-p256"))
    cli = Proc([env.python, os.path.abspath(__file__), "--py-sizes-client",
                "--port", str(port), "--cafile", env.pki.p("ca.pem")])
    cli.finish()
    srv.finish(5)
    srv.stop()
    diag = "\n    moat server said:\n" + tail(srv.stderr) + \
        "\n    python client said:\n" + tail(cli.stdout + cli.stderr)
    info = py_result(cli.stdout) or {}
    data, _ = sized_chunks()
    expect("error" not in info, "python client: %s" % info.get("error") +
           diag)
    expect(info.get("echoed") == len(data) and info.get("same") is True,
           "echo: %r of %d bytes came back, same=%r" %
           (info.get("echoed"), len(data), info.get("same")) + diag)
    expect(moat_server_end(srv.stderr) == "close_notify",
           "moat server connection ended with %r" %
           moat_server_end(srv.stderr) + diag)
    return "ok"


# ---- key log and HTTP -------------------------------------------------------

KEYLOG_LABELS = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                 "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                 "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0",
                 "EXPORTER_SECRET"}


def keylog_lines(path):
    try:
        with open(path) as f:
            return {ln.strip() for ln in f if ln.strip() and
                    not ln.startswith("#")}
    except OSError:
        return set()


def keylog_case(env, moat_role):
    """moat's NSS key log must hold the same secrets OpenSSL logs for the
    same connection (client: --keylog; server: $SSLKEYLOGFILE)."""
    tmp = tempfile.mkdtemp(prefix="keylog-", dir=env.pki.dir)
    ours, theirs = os.path.join(tmp, "moat.log"), os.path.join(tmp, "ossl.log")
    cert = env.pki.server("ecdsa-p256")
    if moat_role == "client":
        srv = Proc(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert",
                    cert[0], "-key", cert[1], "-naccept", "1", "-rev",
                    "-tls1_3", "-keylogfile", theirs])
        m = srv.wait_for(r"ACCEPT 127\.0\.0\.1:(\d+)", timeout=10)
        expect(m, "openssl s_server did not start")
        cli, rc = run_moat_client(env, int(m.group(1)),
                                  extra=["--keylog", ours])
        srv.finish(5)
        expect(rc == 0, "moat client failed:\n" + tail(cli.stderr))
    else:
        argv = [env.moat, "server", "--port", "0", "--cert", cert[0], "--key",
                cert[1], "--once"]
        srv = Proc(argv, env=dict(os.environ, SSLKEYLOGFILE=ours))
        m = srv.wait_for(r"listening on 127\.0\.0\.1:(\d+)", timeout=10)
        expect(m, "moat server did not start:\n" + tail(srv.stderr))
        cli = Proc(["openssl", "s_client", "-connect",
                    "127.0.0.1:" + m.group(1), "-CAfile", env.pki.p("ca.pem"),
                    "-servername", "localhost", "-keylogfile", theirs])
        talk(cli, False, "", "")
        srv.finish(5)
    a, b = keylog_lines(ours), keylog_lines(theirs)
    labels = {ln.split()[0] for ln in a}
    need = KEYLOG_LABELS - {"EXPORTER_SECRET"}
    expect(need <= labels, "moat's key log lacks %s" % sorted(need - labels))
    for ln in a:
        expect(re.fullmatch(r"[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]{64,128}", ln),
               "malformed key log line %r" % ln)
    common = {ln for ln in a if ln.split()[0] in need}
    expect(common <= b, "moat's secrets differ from OpenSSL's:\n  moat:\n%s"
           "\n  openssl:\n%s" % ("\n".join(sorted(a)), "\n".join(sorted(b))))
    return "ok"


def http_case(env, how):
    """moat server answers an HTTP GET with a page describing the
    connection: with --http, or when the first bytes are "GET "."""
    extra = ["--http"] if how == "flag" else []
    srv, port = start_moat_server(env, env.pki.server("ecdsa-p256"),
                                  alpn="http/1.1", extra=extra)
    cli = Proc([env.python, os.path.abspath(__file__), "--py-http", "--port",
                str(port), "--cafile", env.pki.p("ca.pem")])
    cli.finish()
    srv.finish(5)
    srv.stop()
    info = py_result(cli.stdout) or {}
    diag = "\n    moat server said:\n" + tail(srv.stderr) + \
        "\n    client said:\n" + tail(cli.stdout + cli.stderr)
    expect(info.get("status") == 200, "HTTP status %r" % info.get("status") +
           diag)
    body = info.get("body", "")
    for want in ("TLSv1.3", "TLS_AES_", "http/1.1", "localhost"):
        expect(want in body, "the page does not mention %s" % want + diag)
    expect("<table>" in body, "the page is not HTML" + diag)
    return "ok"


# ---- the command's own checks (no peer) ----------------------------------------

def run_moat(env, *args):
    p = subprocess.run([env.moat] + list(args), capture_output=True,
                       timeout=PROC_TIMEOUT)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def cli_verify(env):
    """moat verify accepts a good chain and says what is wrong with bad
    arguments, naming the option or file."""
    leaf, ca = env.pki.p("server-ecdsa-p256.pem"), env.pki.p("ca.pem")
    rc, out, err = run_moat(env, "verify", "--cafile", ca, "--host",
                            "localhost", leaf)
    expect(rc == 0 and "%s: OK" % leaf in out and "CN=localhost" in out,
           "verify of a good chain: rc %d\n%s" % (rc, tail(out + err)))
    rc, out, err = run_moat(env, "verify", "--cafile", ca, "--at",
                            "2000-01-01", leaf)
    expect(rc == 1 and "not yet valid" in out,
           "verify --at before notBefore: rc %d\n%s" % (rc, tail(out + err)))
    missing = env.pki.p("no-such-file.pem")
    bad = [(["--cafile", ca, "--purpose", "mail", leaf],
            "bad --purpose 'mail'"),
           (["--cafile", ca, "--crl-check", "all", leaf],
            "bad --crl-check 'all'"),
           (["--cafile", ca, "--at", "2030-13-01", leaf],
            "bad --at '2030-13-01'"),
           (["--cafile", ca, "--at", "2030-01-01T25:00:00", leaf],
            "bad --at"),
           (["--cafile", ca, "--frobnicate", leaf],
            "unknown option '--frobnicate'"),
           (["--cafile", ca, leaf, leaf], "unexpected argument"),
           (["--cafile", ca, "--host"], "--host needs a value"),
           (["--cafile", ca], "missing LEAF"),
           (["--cafile", ca] + ["--untrusted", ca] * 9 + [leaf],
            "too many --untrusted files")]
    for args, want in bad:
        rc, out, err = run_moat(env, "verify", *args)
        expect(rc == 2 and want in err,
               "moat verify %s: rc %d, want 2 and %r in:\n%s" %
               (" ".join(args[2:]), rc, want, tail(err)))
    rc, out, err = run_moat(env, "verify", "--cafile", ca, missing)
    expect(rc == 1 and missing in err,
           "verify of a missing file does not name it:\n" + tail(err))
    # Files that hold no certificate are said to, on stderr, and no
    # verification is reported.
    empty, junk = env.pki.p("empty.pem"), env.pki.p("junk-verify.der")
    open(empty, "wb").close()
    with open(junk, "wb") as f:
        f.write(b"\x30\x03\x02\x01\x01 not a certificate")
    for args, want, path in (([empty], "the file is empty", empty),
                             ([junk], "cannot parse", junk),
                             (["--untrusted", junk, leaf], "cannot parse",
                              junk)):
        rc, out, err = run_moat(env, "verify", "--cafile", ca, *args)
        expect(rc == 1 and want in err and path in err and out == "",
               "moat verify %s: rc %d, want %r on stderr and nothing on "
               "stdout:\nstdout: %s\nstderr: %s" %
               (" ".join(args), rc, want, tail(out), tail(err)))
    # A missing intermediate is named; given with --untrusted it is used.
    needs = env.pki.p("needsint.pem")
    rc, out, err = run_moat(env, "verify", "--cafile", ca, needs)
    expect(rc == 1 and "unable to find the issuer CN=moat interop "
           "intermediate of CN=localhost (depth 0); the chain sent had 1 "
           "certificate" in out,
           "verify without the intermediate: rc %d\n%s" % (rc, tail(out)))
    rc, out, err = run_moat(env, "verify", "--cafile", ca, "--untrusted",
                            env.pki.p("trustedint.pem"), needs)
    expect(rc == 0 and "issuer: CN=moat interop intermediate" in out,
           "verify with --untrusted intermediate: rc %d\n%s" %
           (rc, tail(out + err)))
    return "ok"


def cli_cert_show(env):
    """moat cert show prints each certificate of a bundle and exits 1,
    naming the file, when one cannot be read."""
    chain = env.pki.p("untrusted.chain.pem")
    rc, out, err = run_moat(env, "cert", "show", chain)
    expect(rc == 0 and "certificate 1:" in out and
           "subject: CN=moat untrusted intermediate" in out,
           "cert show of a two-certificate bundle: rc %d\n%s" %
           (rc, tail(out + err)))
    junk = env.pki.p("junk.der")
    with open(junk, "wb") as f:
        f.write(b"\x30\x03\x02\x01\x01 not a certificate")
    rc, out, err = run_moat(env, "cert", "show", junk)
    expect(rc == 1 and junk in err and "cannot parse" in err,
           "cert show of a damaged file: rc %d\n%s" % (rc, tail(out + err)))
    rc, out, err = run_moat(env, "cert", "show", env.pki.p("client.key"))
    expect(rc == 1 and "no certificate" in err,
           "cert show of a key file: rc %d\n%s" % (rc, tail(out + err)))
    # The signature algorithm comes with its hash, and an extension moat
    # does not decode is listed, not silently left out.
    rc, out, err = run_moat(env, "cert", "show",
                            env.pki.p("server-rsa2048.pem"))
    expect(rc == 0 and "signature: ECDSA with SHA-256" in out,
           "cert show: signature algorithm without its hash:\n" + tail(out))
    ext = env.pki.p("unknown-ext.cnf")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n"
                "1.2.3.4.5=critical,ASN1:UTF8String:moat\n"
                "1.2.3.4.6=ASN1:UTF8String:moat\n")
    key, csr = env.pki.p("unknown-ext.key"), env.pki.p("unknown-ext.csr")
    crt = env.pki.p("unknown-ext.pem")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                    "-subj", "/CN=unknown ext", "-out", csr], check=True,
                   capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-signkey", key,
                    "-days", "2", "-extfile", ext, "-out", crt], check=True,
                   capture_output=True)
    rc, out, err = run_moat(env, "cert", "show", crt)
    expect(rc == 0 and "extension 1.2.3.4.5: not decoded (critical)" in out
           and "extension 1.2.3.4.6: not decoded\n" in out,
           "cert show: unknown extensions not listed:\n%s%s" %
           (tail(out), tail(err)))
    return "ok"


def cli_bad_alpn(env):
    """moat client and server refuse a malformed --alpn list and say what
    is wrong with it (no connection is attempted)."""
    crt, key = env.pki.server("ecdsa-p256")
    bad = [(",,", "a protocol name is empty"),
           ("h2,", "a protocol name is empty"),
           ("", "the list is empty"),
           (",".join(["p%d" % i for i in range(17)]),
            "more than 16 protocols"),
           ("a" * 256, "must be 1 to 255 bytes")]
    for alpn, want in bad:
        for cmd in (["client", "127.0.0.1:9"],
                    ["server", "--port", "0", "--cert", crt, "--key", key]):
            rc, out, err = run_moat(env, *(cmd + ["--alpn", alpn]))
            expect(rc == 2 and "bad --alpn" in err and want in err,
                   "moat %s --alpn %r: rc %d, want 2 and %r in:\n%s" %
                   (cmd[0], alpn[:40], rc, want, tail(err)))
    return "ok"


def missing_intermediate_named(env):
    """A server that leaves out its intermediate: the moat client names the
    issuer it could not find, says how many certificates came, and shows
    the chain as sent (unlike an unknown root, which reads the same
    otherwise)."""
    srv, port = start_openssl_server(
        env, (env.pki.p("needsint.pem"), env.pki.p("needsint.key")),
        "TLS_AES_128_GCM_SHA256", None)
    try:
        cli, rc = run_moat_client(env, port)
    finally:
        srv.stop()
    want = ("unable to find the issuer CN=moat interop intermediate of "
            "CN=localhost (depth 0); the chain sent had 1 certificate")
    expect(rc == 1 and want in cli.stderr,
           "moat client did not name the missing issuer:\n" +
           tail(cli.stderr))
    expect(re.search(r"peer-chain: 1 certificate\n\s+0 subject: CN=localhost"
                     r"\n\s+0 issuer: CN=moat interop intermediate",
                     cli.stderr),
           "moat client did not show the chain as sent:\n" + tail(cli.stderr))
    return "ok"


def not_tls_server_named(env):
    """A server that answers in plain HTTP is named as not speaking TLS,
    with its first line quoted."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    port = lsock.getsockname()[1]

    def serve():
        try:
            c, _ = lsock.accept()
            c.settimeout(5)
            c.recv(4096)
            c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                      b"Connection: close\r\n\r\n")
            c.close()
        except OSError:
            pass
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        cli, rc = run_moat_client(env, port)
    finally:
        t.join(5)
        lsock.close()
    expect(rc == 1 and 'not speaking TLS: it sent text, "HTTP/1.1 400 Bad '
           'Request"' in cli.stderr,
           "moat client did not say the server is not speaking TLS:\n" +
           tail(cli.stderr))
    return "ok"


def cli_help_and_arguments(env):
    """--help on every command goes to stdout and exits 0; moat cert show
    --help is help, not a file name; a bad --sess-out path is refused
    before connecting."""
    for args in (["cert", "--help"], ["cert", "show", "--help"],
                 ["verify", "--help"], ["client", "--help"],
                 ["server", "--help"]):
        rc, out, err = run_moat(env, *args)
        expect(rc == 0 and out.startswith("usage: moat") and not err,
               "moat %s: rc %d, stdout %r, stderr %r" %
               (" ".join(args), rc, out[:60], err[:200]))
    rc, out, err = run_moat(env, "cert")
    expect(rc == 2 and "usage: moat cert" in err,
           "moat cert without arguments: rc %d\n%s" % (rc, tail(err)))
    # Port 9 on loopback refuses: had the client tried to connect first, it
    # would say "cannot connect" and exit 1.
    bad = env.pki.p(os.path.join("no-such-dir", "sess"))
    rc, out, err = run_moat(env, "client", "127.0.0.1:9", "--sess-out", bad)
    expect(rc == 2 and "cannot write session file" in err and
           "cannot connect" not in err,
           "moat client --sess-out to an unwritable path: rc %d\n%s" %
           (rc, tail(err)))
    # --sigalgs that the server's key cannot make is refused at start-up.
    crt, key = env.pki.server("ecdsa-p256")
    rc, out, err = run_moat(env, "server", "--port", "0", "--cert", crt,
                            "--key", key, "--sigalgs", "rsa_pss_rsae_sha256")
    expect(rc == 2 and "bad --sigalgs" in err and "EC P-256 key" in err,
           "moat server --sigalgs its key cannot make: rc %d\n%s" %
           (rc, tail(err)))
    srv = Proc([env.moat, "server", "--port", "0", "--cert", crt, "--key", key,
                "--sigalgs", "rsa_pss_rsae_sha256:ecdsa_secp256r1_sha256"])
    started = srv.wait_for(r"listening on", timeout=10)
    srv.stop()
    expect(started, "moat server refused a --sigalgs list its key fits:\n" +
           tail(srv.stderr))
    return "ok"


def encrypted_key_password(env):
    """An encrypted key is usable from the command line: --password-file,
    --password-env, or a prompt on the terminal; a wrong or missing
    password is said so before anything is served."""
    crt, plain = env.pki.server("ecdsa-p256")
    enc = env.pki.p("enc-server.key")
    pwfile = env.pki.p("password.txt")
    subprocess.run(["openssl", "pkey", "-in", plain, "-aes256", "-passout",
                    "pass:moat secret", "-out", enc], check=True,
                   capture_output=True)
    with open(pwfile, "w") as f:
        f.write("moat secret\n")
    wrong = env.pki.p("wrong-password.txt")
    with open(wrong, "w") as f:
        f.write("not it\n")
    base = [env.moat, "server", "--port", "0", "--cert", crt, "--key", enc,
            "--once"]

    def starts(extra, environ=None):
        srv = Proc(base + extra, env=environ)
        m = srv.wait_for(r"listening on 127\.0\.0\.1:(\d+)", timeout=10)
        if m:
            cli, rc = run_moat_client(env, int(m.group(1)))
            srv.finish(5)
            return rc == 0 and cli.out == PAYLOAD, srv.stderr
        srv.finish(5)
        return False, srv.stderr
    ok, err = starts(["--password-file", pwfile])
    expect(ok, "moat server --password-file did not serve:\n" + tail(err))
    ok, err = starts(["--password-env", "MOAT_TEST_PW"],
                     dict(os.environ, MOAT_TEST_PW="moat secret"))
    expect(ok, "moat server --password-env did not serve:\n" + tail(err))
    # Wrong, unset, and no terminal to ask on: refused at start-up.
    for extra, want, environ in (
            (["--password-file", wrong], "wrong password", None),
            (["--password-env", "MOAT_TEST_UNSET"], "is not set", None),
            ([], "no terminal to ask", None)):
        p = subprocess.run(base + extra, capture_output=True, timeout=10,
                           start_new_session=True, env=environ)
        err = p.stderr.decode("utf-8", "replace")
        expect(p.returncode == 2 and want in err,
               "moat server %s: rc %d, want 2 and %r:\n%s" %
               (" ".join(extra), p.returncode, want, tail(err)))
    p = subprocess.run([env.moat, "client", "127.0.0.1:9", "--cert", crt,
                        "--key", enc, "--password-file", wrong],
                       capture_output=True, timeout=10,
                       start_new_session=True)
    expect(p.returncode == 2 and b"wrong password" in p.stderr,
           "moat client with a wrong --password-file: rc %d\n%s" %
           (p.returncode, tail(p.stderr.decode("utf-8", "replace"))))
    # On a terminal the password is asked for, without echo.
    import pty
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(env.moat, base)
    out = b""

    def read_some():
        import select
        left = deadline - time.monotonic()
        if left > 0 and select.select([fd], [], [], left)[0]:
            return os.read(fd, 1024)
        return b""
    try:
        deadline = time.monotonic() + 10
        while b"Password for" not in out and time.monotonic() < deadline:
            out += read_some()
        expect(b"Password for %s: " % enc.encode() in out,
               "moat server did not ask for the password: %r" % out)
        os.write(fd, b"moat secret\n")
        while b"listening on" not in out and time.monotonic() < deadline:
            chunk = read_some()
            if not chunk:
                break
            out += chunk
        expect(b"listening on" in out and b"moat secret" not in out,
               "moat server after the password on the terminal: %r" % out)
    except OSError as e:
        raise CaseFailed("terminal: %s; read %r" % (e, out))
    finally:
        try:
            os.kill(pid, 15)
            os.waitpid(pid, 0)
        except OSError:
            pass
        os.close(fd)
    return "ok"


def server_host_name_and_once_status(env):
    """moat server --host accepts a name (localhost); --once exits 0 after a
    good connection and 1 when its handshake failed."""
    crt, key = env.pki.server("ecdsa-p256")
    srv = Proc([env.moat, "server", "--port", "0", "--cert", crt, "--key", key,
                "--host", "localhost", "--once"])
    m = srv.wait_for(r"listening on localhost:(\d+)", timeout=10)
    if not m:
        srv.stop()
        raise CaseFailed("moat server --host localhost did not start:\n" +
                         tail(srv.stdout + srv.stderr))
    cli = Proc([env.moat, "client", "localhost:%s" % m.group(1), "--cafile",
                env.pki.p("ca.pem")], stdin_data=PAYLOAD)
    crc = cli.finish()
    rc = srv.finish(5)
    expect(crc == 0 and cli.out == PAYLOAD,
           "moat client to moat server --host localhost: rc %s\n%s" %
           (crc, tail(cli.stderr + srv.stderr)))
    expect(rc == 0, "moat server --once after a good connection exited %s"
           % rc)
    # A client that is not speaking TLS: the handshake fails, status 1.
    srv, port = start_moat_server(env, (crt, key))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        try:
            s.recv(100)
        except OSError:
            pass
    rc = srv.finish(5)
    expect(rc == 1 and "handshake failed" in srv.stderr,
           "moat server --once after a failed handshake exited %s:\n%s" %
           (rc, tail(srv.stderr)))
    return "ok"


# ---- the case list -------------------------------------------------------------

# ---- TLS 1.2 ---------------------------------------------------------------

def check_moat_view12(params, suite, group, cert, sig_key):
    expect(params.get("version") == "TLSv1.2",
           "moat reports version %r, want TLSv1.2" % params.get("version"))
    expect(params.get("cipher") == suite,
           "moat reports cipher %r, want %s" % (params.get("cipher"), suite))
    if group:
        expect(same_group(group, params.get("group")),
               "moat reports group %r, want %s" % (params.get("group"),
                                                  group))
    got = params.get(sig_key) or ""
    expect(re.fullmatch(SIGALG12[cert], got),
           "moat reports %s %r, want %s" % (sig_key, got, SIGALG12[cert]))


def tls12_moat_client_case(env, peer, aead, group, cert, *, alpn=None,
                           server_alpn=None, sni=False, client_auth=False):
    """The default moat client (1.2 and 1.3) against a TLS 1.2-only peer
    server limited to one suite and group."""
    suite = tls12_suite(aead, cert)
    srv, port = SERVER_PEERS[peer](env, env.pki.server(cert), suite, group,
                                   tls12=True, alpn=server_alpn or alpn,
                                   sni=sni, client_auth=client_auth)
    try:
        cli, rc = run_moat_client(env, port, suite=suite,
                                  groups=tls12_groups(group, cert),
                                  alpn=alpn, client_cert=client_auth)
    finally:
        srv.stop() if peer == "gnutls" else srv.finish(5)
    sout = srv.stdout + srv.stderr
    diag = "\n    moat client said:\n" + tail(cli.stderr) + \
        "\n    %s server said:\n" % peer + tail(sout)
    try:
        expect(rc == 0, "moat client exited %s" % rc)
        params = moat_client_params(cli.stderr)
        check_moat_view12(params, suite, group, cert, "peer-signature")
        expect(cli.out == expected_echo(peer, PAYLOAD),
               "data did not round-trip: got %r" % bytes(cli.out))
        want_alpn = alpn_choice(server_alpn or alpn, alpn) if alpn else None
        if alpn:
            expect(params.get("alpn") == want_alpn,
                   "moat reports ALPN %r, want %s" % (params.get("alpn"),
                                                     want_alpn))
        if peer == "openssl":
            expect("Protocol version: TLSv1.2" in sout and
                   "Ciphersuite: %s" % openssl12_name(suite) in sout,
                   "s_server did not report TLSv1.2 with %s" %
                   openssl12_name(suite))
            if sni:
                expect('Hostname in TLS extension: "localhost"' in sout,
                       "s_server did not see SNI localhost")
            if client_auth:
                expect("moat interop client" in sout,
                       "s_server did not report the client certificate")
        elif peer == "gnutls":
            d = re.search(r"- Description: (\S+)", srv.stdout)
            expect(d, "gnutls-serv printed no session description")
            desc = d.group(1)
            expect("TLS1.2" in desc and GNUTLS_CIPHER[suite] in desc and
                   GNUTLS_GROUP[group] in desc and
                   GNUTLS_SIG12[cert] in desc,
                   "gnutls-serv negotiated %s" % desc)
            if sni:
                expect("server name[1]: localhost" in srv.stdout,
                       "gnutls-serv did not see SNI localhost")
        elif peer == "python":
            info = py_result(srv.stdout)
            expect(info is not None, "python server printed no result")
            expect(info.get("version") == "TLSv1.2" and
                   info.get("cipher") == openssl12_name(suite),
                   "python server reports %r %r" % (info.get("version"),
                                                    info.get("cipher")))
            if alpn:
                expect(info.get("alpn") == want_alpn,
                       "python server reports ALPN %r" % info.get("alpn"))
            if sni:
                expect(info.get("sni") == "localhost",
                       "python server saw SNI %r" % info.get("sni"))
            if client_auth:
                expect("moat interop client" in (info.get("peer") or ""),
                       "python server saw no client certificate")
    except CaseFailed as e:
        raise CaseFailed(str(e) + diag)
    return "ok"


def tls12_moat_server_case(env, peer, aead, group, cert, *, alpn=None,
                           server_alpn=None, client_auth=False):
    """A TLS 1.2-only peer client, limited to one suite and group, against
    the default moat server (1.2 and 1.3) limited to the same."""
    suite = tls12_suite(aead, cert)
    srv, port = start_moat_server(env, env.pki.server(cert), suite=suite,
                                  groups=group, alpn=server_alpn or alpn,
                                  client_auth=client_auth)
    try:
        cli, echoed = CLIENT_PEERS[peer](env, port, suite,
                                         tls12_groups(group, cert),
                                         alpn=alpn, client_auth=client_auth,
                                         tls12=True)
    finally:
        srv_rc = srv.finish(5)
        srv.stop()
    out = cli.stdout
    diag = "\n    moat server said:\n" + tail(srv.stderr) + \
        "\n    %s client said:\n" % peer + tail(out + cli.stderr, 25)
    try:
        conn = moat_server_conn(srv.stderr)
        expect(conn is not None, "moat server reported no handshake")
        expect(srv_rc == 0, "moat server exited with %s" % srv_rc)
        check_moat_view12(conn, suite, group, cert, "sigalg")
        expect(echoed, "data did not round-trip through the moat server")
        expect(conn.get("sni") == "localhost",
               "moat server saw SNI %r" % conn.get("sni"))
        want_alpn = alpn_choice(server_alpn or alpn, alpn) if alpn else None
        if alpn:
            expect(conn.get("alpn") == want_alpn,
                   "moat server ALPN %r, want %s" % (conn.get("alpn"),
                                                    want_alpn))
        if client_auth:
            expect("moat interop client" in conn.get("client-cert", ""),
                   "moat server saw client certificate %r" %
                   conn.get("client-cert"))
        if peer == "openssl":
            expect("New, TLSv1.2, Cipher is %s" % openssl12_name(suite)
                   in out, "s_client did not negotiate TLSv1.2 with %s" %
                   openssl12_name(suite))
            expect(re.search(r"Server Temp Key: (ECDH, )?%s" %
                             OPENSSL_TEMPKEY[group], out),
                   "s_client did not use group %s" % group)
            expect(re.search(r"Peer signature type: %s\n" %
                             OPENSSL_SIGTYPE12[cert], out),
                   "s_client saw another signature type")
            expect("Verify return code: 0 (ok)" in out,
                   "s_client did not verify the moat server's certificate")
            expect("Extended master secret: yes" in out,
                   "s_client did not get extended master secret")
            if alpn:
                expect("ALPN protocol: %s" % want_alpn in out,
                       "s_client did not negotiate ALPN")
        elif peer == "gnutls":
            d = re.search(r"- Description: (\S+)", out)
            expect(d, "gnutls-cli printed no session description")
            desc = d.group(1)
            expect("TLS1.2" in desc and GNUTLS_CIPHER[suite] in desc and
                   GNUTLS_GROUP[group] in desc and
                   GNUTLS_SIG12[cert] in desc,
                   "gnutls-cli negotiated %s" % desc)
            expect("The certificate is trusted" in out,
                   "gnutls-cli did not trust the moat server's certificate")
            if alpn:
                expect(re.search(r"Application protocol: %s" %
                                 re.escape(want_alpn), out),
                       "gnutls-cli did not negotiate ALPN")
        elif peer == "python":
            info = py_result(out) or {}
            expect(info.get("version") == "TLSv1.2" and
                   info.get("cipher") == openssl12_name(suite),
                   "python client reports %r %r" % (info.get("version"),
                                                    info.get("cipher")))
            if alpn:
                expect(info.get("alpn") == want_alpn,
                       "python client reports ALPN %r" % info.get("alpn"))
    except CaseFailed as e:
        raise CaseFailed(str(e) + diag)
    return "ok"


CURL_CURVE = {"X25519": "X25519", "P-256": "prime256v1", "P-384": "secp384r1"}


def tls12_curl_case(env, aead, group, cert):
    """curl --tls-max 1.2 fetches the moat server's HTTP page."""
    if shutil.which("curl") is None:
        raise CaseSkipped("curl not installed (apt-get install curl)")
    suite = tls12_suite(aead, cert)
    srv, port = start_moat_server(env, env.pki.server(cert), suite=suite,
                                  groups=group, extra=["--http"])
    cli = Proc(["curl", "-sS", "-v", "--tlsv1.2", "--tls-max", "1.2",
                "--cacert", env.pki.p("ca.pem"), "--ciphers",
                openssl12_name(suite), "--curves",
                ":".join(CURL_CURVE[g] for g in
                         tls12_groups(group, cert).split(":")),
                "--resolve", "localhost:%d:127.0.0.1" % port,
                "https://localhost:%d/" % port])
    rc = cli.finish()
    srv_rc = srv.finish(5)
    srv.stop()
    diag = "\n    moat server said:\n" + tail(srv.stderr) + \
        "\n    curl said:\n" + tail(cli.stderr)
    conn = moat_server_conn(srv.stderr)
    expect(rc == 0, "curl exited %s" % rc + diag)
    expect(conn is not None and srv_rc == 0, "no handshake at moat" + diag)
    try:
        check_moat_view12(conn, suite, group, cert, "sigalg")
    except CaseFailed as e:
        raise CaseFailed(str(e) + diag)
    expect("SSL connection using TLSv1.2 / %s" % openssl12_name(suite) in
           cli.stderr, "curl did not report TLSv1.2 with %s" %
           openssl12_name(suite) + diag)
    body = cli.stdout
    expect("TLSv1.2" in body and suite in body and "<table>" in body,
           "the page does not describe the TLS 1.2 connection" + diag)
    return "ok"


def moat_server_conns(text):
    """key=value pairs of every connection line of the moat server."""
    out = []
    for m in re.finditer(r"moat server: conn \d+ from \S+: (version=.*)",
                         text):
        params = dict(re.findall(r'([a-z-]+)=("[^"]*"|\S+)', m.group(1)))
        out.append({k: v.strip('"') for k, v in params.items()})
    return out


OPENSSL35 = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared",
                                          "peers", "openssl-3.5"))


def openssl35(env):
    """argv[0] and environment of OpenSSL 3.5's command (3.0's s_client
    and s_server have no -no_ems), or a skip."""
    exe = os.path.join(OPENSSL35, "bin", "openssl")
    if not os.access(exe, os.X_OK):
        raise CaseSkipped("no OpenSSL 3.5 in %s (needed for -no_ems)" %
                          OPENSSL35)
    return exe, dict(os.environ, LD_LIBRARY_PATH=os.path.join(OPENSSL35,
                                                               "lib"))


def s_server12(env, extra, naccept=1, rev=True, cert="ecdsa-p256",
               exe="openssl", penv=None):
    crt, key = env.pki.server(cert)
    srv = Proc([exe, "s_server", "-accept", "127.0.0.1:0", "-cert", crt,
                "-key", key, "-naccept", str(naccept), "-tls1_2"] +
               (["-rev"] if rev else []) + list(extra), env=penv)
    m = srv.wait_for(r"ACCEPT 127\.0\.0\.1:(\d+)", timeout=10)
    if not m:
        srv.stop()
        raise CaseFailed("openssl s_server did not start:\n" +
                         tail(srv.stdout + srv.stderr))
    return srv, int(m.group(1))


def s_client12(env, port, extra, exe="openssl", penv=None, tls="-tls1_2"):
    """openssl s_client: one line, its echo, then stdin ends."""
    cli = Proc([exe, "s_client", "-connect", "127.0.0.1:%d" % port,
                "-CAfile", env.pki.p("ca.pem"), "-servername", "localhost",
                "-verify_return_error", tls] + list(extra), env=penv)
    cli.write(PAYLOAD)
    cli.wait_for(re.escape(PAYLOAD.decode().strip()), timeout=10)
    cli.finish(10)
    return cli


def tls12_resume_moat_client(env, peer, no_ticket):
    """The moat client saves a TLS 1.2 session and resumes it: by ticket,
    or with --no-ticket by session ID; the server must count a hit."""
    extra = ["--tls1.2"] + (["--no-ticket"] if no_ticket else [])
    if peer == "openssl":
        srv, port = s_server12(env, [], naccept=2)
    else:
        srv, port = start_gnutls_server(env, env.pki.server("ecdsa-p256"),
                                        None, None, tls12=True)
    sess = env.pki.p("resume12-%s-%d.bin" % (peer, port))
    try:
        cli1, rc1 = run_moat_client(env, port, extra=extra +
                                    ["--sess-out", sess])
        cli2, rc2 = run_moat_client(env, port, extra=extra +
                                    ["--sess-in", sess])
    finally:
        srv.finish(5) if peer == "openssl" else srv.stop()
    sout = srv.stdout + srv.stderr
    p1, p2 = moat_client_params(cli1.stderr), moat_client_params(cli2.stderr)
    diag = "\n    first:\n" + tail(cli1.stderr) + "\n    second:\n" + \
        tail(cli2.stderr) + "\n    server:\n" + tail(sout)
    expect(rc1 == 0 and p1.get("version") == "TLSv1.2" and
           p1.get("resumed") == "no", "first connection" + diag)
    expect(rc2 == 0 and p2.get("resumed") == "yes",
           "second connection did not resume" + diag)
    expect(cli2.out == expected_echo(peer, PAYLOAD),
           "no data after resumption" + diag)
    if peer == "openssl":
        expect(re.search(r"^\s*1 session cache hits", sout, re.M),
               "s_server counted no resumption" + diag)
    else:
        expect(sout.count("- Description:") == 1 or
               "This is a resumed session" in sout,
               "gnutls-serv did not see a resumption" + diag)
    return "ok"


def tls12_resume_moat_server(env, no_ticket_client, no_ticket_server):
    """openssl s_client resumes with the moat server: by ticket, or by
    session ID (s_client -no_ticket, or moat server --no-ticket)."""
    extra = ["--no-ticket"] if no_ticket_server else []
    srv, port = start_moat_server(env, env.pki.server("ecdsa-p256"),
                                  once=False, extra=extra)
    sess = env.pki.p("resume12-srv-%d.pem" % port)
    nt = ["-no_ticket"] if no_ticket_client else []
    try:
        c1 = s_client12(env, port, ["-sess_out", sess] + nt)
        c2 = s_client12(env, port, ["-sess_in", sess] + nt)
    finally:
        srv.stop()
    diag = "\n    moat server said:\n" + tail(srv.stderr) + \
        "\n    second s_client said:\n" + tail(c2.stdout)
    conns = moat_server_conns(srv.stderr)
    expect(re.search(r"^New, TLSv1\.2", c1.stdout, re.M),
           "first s_client connection not new TLS 1.2" + diag)
    ticket = "TLS session ticket:" in c1.stdout
    expect(ticket != (no_ticket_client or no_ticket_server),
           "a ticket %s" % ("came" if ticket else "did not come") + diag)
    expect(re.search(r"^Reused, TLSv1\.2", c2.stdout, re.M),
           "s_client did not resume with the moat server" + diag)
    expect(len(conns) == 2 and conns[0].get("resumed") == "no" and
           conns[1].get("resumed") == "yes",
           "the moat server did not report the resumption" + diag)
    expect(PAYLOAD.decode().strip() in c2.stdout,
           "no echo after resumption" + diag)
    return "ok"


def tls12_no_ems_server(env):
    """An OpenSSL 3.5 s_server -no_ems: the moat client completes a full
    handshake, and the session from it is never resumed (RFC 7627 5.3)."""
    exe, penv = openssl35(env)
    srv, port = s_server12(env, ["-no_ems"], naccept=2, exe=exe, penv=penv)
    sess = env.pki.p("noems-%d.bin" % port)
    try:
        cli1, rc1 = run_moat_client(env, port, extra=["--sess-out", sess])
        cli2, rc2 = run_moat_client(env, port, extra=["--sess-in", sess]
                                    if os.path.exists(sess) else [])
    finally:
        srv.finish(5)
    sout = srv.stdout + srv.stderr
    diag = "\n    first:\n" + tail(cli1.stderr) + "\n    second:\n" + \
        tail(cli2.stderr) + "\n    server:\n" + tail(sout)
    p1, p2 = moat_client_params(cli1.stderr), moat_client_params(cli2.stderr)
    expect(p1.get("version") == "TLSv1.2" and
           cli1.out == expected_echo("openssl", PAYLOAD) and
           "peer sent close_notify" in cli1.stderr,
           "no full handshake with a server without EMS" + diag)
    # moat keeps no session made without EMS, and says so.
    expect(rc1 != 0 and not os.path.exists(sess) and
           "extended master secret" in cli1.stderr,
           "the moat client saved a session without EMS" + diag)
    expect(rc2 == 0 and p2.get("resumed") == "no",
           "the moat client resumed a session made without EMS" + diag)
    expect(re.search(r"^\s*0 session cache hits", sout, re.M),
           "s_server resumed a session without EMS" + diag)
    return "ok"


def tls12_no_ems_client(env):
    """An OpenSSL 3.5 s_client -no_ems: the moat server completes a full
    handshake and does not resume the session it made."""
    exe, penv = openssl35(env)
    srv, port = start_moat_server(env, env.pki.server("ecdsa-p256"),
                                  once=False)
    sess = env.pki.p("noems-srv-%d.pem" % port)
    try:
        c1 = s_client12(env, port, ["-no_ems", "-sess_out", sess], exe=exe,
                        penv=penv)
        c2 = s_client12(env, port, ["-no_ems", "-sess_in", sess], exe=exe,
                        penv=penv)
    finally:
        srv.stop()
    diag = "\n    moat server said:\n" + tail(srv.stderr) + \
        "\n    second s_client said:\n" + tail(c2.stdout)
    conns = moat_server_conns(srv.stderr)
    expect(re.search(r"^New, TLSv1\.2", c1.stdout, re.M) and
           "Extended master secret: no" in c1.stdout,
           "no full handshake without EMS" + diag)
    expect(PAYLOAD.decode().strip() in c1.stdout, "no echo" + diag)
    expect(re.search(r"^New, TLSv1\.2", c2.stdout, re.M),
           "s_client resumed a session without EMS" + diag)
    expect(len(conns) == 2 and all(c.get("resumed") == "no" for c in conns),
           "the moat server resumed a session without EMS" + diag)
    return "ok"


def tls12_renegotiation_to_moat_server(env, peer):
    """The peer client asks to renegotiate (s_client's R, gnutls-cli's
    ^renegotiate^): the moat server refuses with a no_renegotiation
    warning and does not fail by itself; the peer reports the refusal
    (both then end the connection: their choice, not moat's)."""
    srv, port = start_moat_server(env, env.pki.server("ecdsa-p256"))
    if peer == "openssl":
        cli = Proc(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                    "-CAfile", env.pki.p("ca.pem"), "-servername",
                    "localhost", "-tls1_2"])
        cmd, refused = b"R\n", r"no renegotiation"
    else:
        if not env.have_gnutls_cli:
            srv.stop()
            raise CaseSkipped("gnutls-cli not installed "
                              "(apt-get install gnutls-bin)")
        cli = Proc(["gnutls-cli", "-p", str(port), "127.0.0.1",
                    "--x509cafile", env.pki.p("ca.pem"), "--sni-hostname",
                    "localhost", "--verify-hostname", "localhost",
                    "--priority", gnutls_priority(tls12=True),
                    "--inline-commands"])
        cmd, refused = b"^renegotiate^\n", r"No renegotiation is allowed"
    try:
        cli.write(PAYLOAD)
        echoed = cli.wait_for(re.escape(PAYLOAD.decode().strip()),
                              timeout=10) is not None
        cli.write(cmd)
        saw = cli.wait_for(refused, "both", timeout=10) is not None
        cli.finish(5)
    finally:
        srv.finish(5)
        srv.stop()
    out = cli.stdout + cli.stderr
    diag = "\n    moat server said:\n" + tail(srv.stderr) + \
        "\n    %s client said:\n" % peer + tail(out)
    expect(echoed, "no echo before the renegotiation" + diag)
    expect(saw, "the %s client did not report the refusal" % peer + diag)
    m = re.search(r"closed: .*renegotiations-refused=(\d+)", srv.stderr)
    expect(m and int(m.group(1)) >= 1,
           "the moat server did not report a refused renegotiation" + diag)
    # moat's side goes on after each refusal: it ends the connection
    # only on the peer's alert, or when a peer keeps asking (gnutls-cli
    # sends a new ClientHello after every warning) with an error that
    # names the renegotiation.
    expect("handshake failed" not in srv.stderr and
           not re.search(r"read failed: (?!ALERT_RECEIVED|"
                         r"UNEXPECTED_MESSAGE.*renegotiate)", srv.stderr),
           "the moat server failed by itself" + diag)
    return "ok"


def tls12_renegotiation_to_moat_client(env, peer):
    """The peer server asks to renegotiate (s_server's r command sends a
    HelloRequest; gnutls-serv --echo does when it reads **REHANDSHAKE**):
    the moat client answers no_renegotiation and reports it."""
    if peer == "openssl":
        srv, port = s_server12(env, [], rev=False)
        refused = r"no renegotiation"
    else:
        srv, port = start_gnutls_server(env, env.pki.server("ecdsa-p256"),
                                        None, None, tls12=True)
        refused = r"Received NO_RENEGOTIATION alert"
    cli = Proc([env.moat, "client", "127.0.0.1:%d" % port, "--cafile",
                env.pki.p("ca.pem"), "--servername", "localhost"])
    try:
        cli.write(PAYLOAD)
        got = srv.wait_for(re.escape(PAYLOAD.decode().strip()), "both",
                           timeout=10)
        if peer == "openssl":
            srv.write(b"r\n")
        else:
            cli.write(b"**REHANDSHAKE**\n")
        saw = srv.wait_for(refused, "both", timeout=10) is not None
        cli.finish(5)
    finally:
        srv.finish(5) if peer == "openssl" else srv.stop()
    sout = srv.stdout + srv.stderr
    diag = "\n    moat client said:\n" + tail(cli.stderr) + \
        "\n    %s server said:\n" % peer + tail(sout)
    expect(got, "the server did not get the first line" + diag)
    expect(saw, "the %s server did not report the refusal" % peer + diag)
    expect(re.search(r"refused 1 renegotiation request", cli.stderr),
           "the moat client did not report the refusal" + diag)
    expect(moat_client_params(cli.stderr).get("version") == "TLSv1.2",
           "not TLS 1.2" + diag)
    expect(not re.search(r"read failed: (?!ALERT_RECEIVED)|"
                         r"handshake failed", cli.stderr),
           "the moat client failed by itself" + diag)
    return "ok"


def tls12_only_moat_vs_tls13_peer(env, moat_role):
    """moat --tls1.2 against a TLS 1.3-only OpenSSL: a clear
    protocol_version on both sides."""
    if moat_role == "client":
        crt, key = env.pki.server("ecdsa-p256")
        srv = Proc(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert",
                    crt, "-key", key, "-naccept", "1", "-tls1_3"])
        m = srv.wait_for(r"ACCEPT 127\.0\.0\.1:(\d+)", timeout=10)
        expect(m, "openssl s_server did not start")
        try:
            cli, rc = run_moat_client(env, int(m.group(1)),
                                      extra=["--tls1.2"])
        finally:
            srv.finish(5)
        peer_out, moat_out = srv.stdout + srv.stderr, cli.stderr
        expect(rc != 0, "the moat client connected" + "\n" + tail(moat_out))
    else:
        srv, port = start_moat_server(env, env.pki.server("ecdsa-p256"),
                                      extra=["--tls1.2"])
        cli = Proc(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                    "-CAfile", env.pki.p("ca.pem"), "-servername",
                    "localhost", "-tls1_3"], stdin_data=PAYLOAD)
        cli.finish(10)
        srv.finish(5)
        srv.stop()
        peer_out, moat_out = cli.stdout + cli.stderr, srv.stderr
    diag = "\n    moat said:\n" + tail(moat_out) + "\n    openssl said:\n" + \
        tail(peer_out)
    # OpenSSL's server refuses a 1.2-only ClientHello with protocol_version
    # ("unsupported protocol"); moat's server sends protocol_version.
    expect(re.search(r"handshake failed: (PROTOCOL_VERSION|ALERT_RECEIVED.*"
                     r"protocol_version)", moat_out),
           "moat did not fail with a protocol-version error" + diag)
    expect(re.search(r"protocol version|unsupported protocol", peer_out,
                     re.I), "openssl did not report protocol_version" + diag)
    return "ok"


def strip_extension(hello, drop):
    """A ClientHello handshake message without extension `drop`, lengths
    fixed up."""
    at = 4 + 2 + 32
    at += 1 + hello[at]                                  # session_id
    at += 2 + struct.unpack(">H", hello[at:at + 2])[0]   # cipher_suites
    at += 1 + hello[at]                                  # compression
    end = at + 2 + struct.unpack(">H", hello[at:at + 2])[0]
    exts, i = b"", at + 2
    while i < end:
        etype, elen = struct.unpack(">HH", hello[i:i + 4])
        if etype != drop:
            exts += hello[i:i + 4 + elen]
        i += 4 + elen
    body = hello[4:at] + struct.pack(">H", len(exts)) + exts
    return bytes([hello[0]]) + struct.pack(">I", len(body))[1:] + body


def downgrade_sentinel_real_server(env):
    """RFC 8446 4.1.3 against a real server: a proxy strips
    supported_versions from a moat client's ClientHello on its way to an
    OpenSSL server that speaks TLS 1.3 and 1.2; OpenSSL answers with TLS
    1.2 and the downgrade sentinel in its random, and the moat client
    (which offered 1.3) must abort, naming the sentinel."""
    crt, key = env.pki.server("ecdsa-p256")
    srv = Proc(["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", crt,
                "-key", key, "-naccept", "1", "-rev"])
    m = srv.wait_for(r"ACCEPT 127\.0\.0\.1:(\d+)", timeout=10)
    if not m:
        srv.stop()
        raise CaseFailed("openssl s_server did not start")
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    seen = {}

    def read_record(sock):
        head = b""
        while len(head) < 5:
            got = sock.recv(5 - len(head))
            if not got:
                return None
            head += got
        body = b""
        n = struct.unpack(">H", head[3:5])[0]
        while len(body) < n:
            got = sock.recv(n - len(body))
            if not got:
                return None
            body += got
        return head + body

    def proxy():
        try:
            lsock.settimeout(10)
            c, _ = lsock.accept()
            c.settimeout(10)
            u = socket.create_connection(("127.0.0.1", int(m.group(1))),
                                         timeout=10)
            rec = read_record(c)
            hello = strip_extension(rec[5:], 43)
            u.sendall(rec[:3] + struct.pack(">H", len(hello)) + hello)
            rec = read_record(u)
            seen["server_hello"] = rec
            c.sendall(rec)
            # the rest, server to client, until either side ends
            while True:
                data = u.recv(65536)
                if not data:
                    break
                c.sendall(data)
        except OSError:
            pass
        finally:
            lsock.close()

    t = threading.Thread(target=proxy, daemon=True)
    t.start()
    try:
        cli, rc = run_moat_client(env, lsock.getsockname()[1])
    finally:
        srv.finish(5)
        srv.stop()
    t.join(10)
    diag = "\n    moat said:\n" + tail(cli.stderr) + \
        "\n    openssl said:\n" + tail(srv.stdout + srv.stderr)
    sh = seen.get("server_hello") or b""
    expect(len(sh) > 11 + 32 and sh[9:11] == b"\x03\x03" and
           sh[11 + 24:11 + 32] == b"DOWNGRD\x01",
           "OpenSSL did not answer with TLS 1.2 and the sentinel" + diag)
    expect(rc != 0 and re.search(r"ILLEGAL_PARAMETER.*downgrade sentinel",
                                 cli.stderr),
           "the moat client did not refuse the downgrade" + diag)
    return "ok"


def tls12_client_cert_to_moat_client(env, how):
    """s_server -tls1_2 asks for a client certificate: required (-Verify,
    the moat client sends one), optional (-verify, the moat client has
    none and answers with an empty Certificate)."""
    ca = ["-CAfile", env.pki.p("ca.pem"), "-msg"]
    flag = "-Verify" if how == "required" else "-verify"
    srv, port = s_server12(env, [flag, "1"] + ca)
    try:
        cli, rc = run_moat_client(env, port, client_cert=how == "required")
    finally:
        srv.finish(5)
    out = srv.stdout + srv.stderr
    diag = "\n    moat client said:\n" + tail(cli.stderr) + \
        "\n    openssl server said:\n" + tail(out)
    expect(rc == 0 and cli.out == expected_echo("openssl", PAYLOAD),
           "no round trip" + diag)
    expect(re.search(r">>> TLS 1\.2, Handshake \[length [0-9a-f]+\], "
                     r"CertificateRequest", out),
           "s_server sent no CertificateRequest" + diag)
    if how == "required":
        expect("moat interop client" in out and
               re.search(r"<<< TLS 1\.2, Handshake \[length [0-9a-f]+\], "
                         r"CertificateVerify", out),
               "s_server got no client certificate and CertificateVerify" +
               diag)
    else:
        # An empty 1.2 Certificate: the header and a zero list length.
        expect("<<< TLS 1.2, Handshake [length 0007], Certificate" in out and
               "CertificateVerify" not in out.split("CertificateRequest")[-1],
               "the moat client did not answer with an empty Certificate" +
               diag)
    return "ok"


def tls12_client_cert_to_moat_server(env, how):
    """openssl s_client -tls1_2 against a moat server that asks for a
    client certificate: optional (--cafile) without and with one, or
    required (--verify-client) without one: refused."""
    extra = ["--cafile", env.pki.p("ca.pem")]
    if how == "required-missing":
        extra += ["--verify-client"]
    srv, port = start_moat_server(env, env.pki.server("ecdsa-p256"),
                                  extra=extra)
    cert = ["-cert", env.pki.p("client.pem"), "-key",
            env.pki.p("client.key")] if how == "optional-sent" else []
    try:
        cli = s_client12(env, port, cert)
    finally:
        srv.finish(5)
        srv.stop()
    out = cli.stdout + cli.stderr
    diag = "\n    moat server said:\n" + tail(srv.stderr) + \
        "\n    s_client said:\n" + tail(out)
    conn = moat_server_conn(srv.stderr)
    if how == "required-missing":
        expect(conn is None and re.search(r"handshake failed: .*certificate",
                                          srv.stderr, re.I),
               "the moat server accepted a client without a certificate" +
               diag)
        expect(re.search(r"alert (handshake failure|certificate required)",
                         out), "s_client got no alert" + diag)
        return "ok"
    expect(conn is not None and conn.get("version") == "TLSv1.2",
           "no TLS 1.2 handshake" + diag)
    expect(PAYLOAD.decode().strip() in cli.stdout, "no echo" + diag)
    want = "moat interop client" if how == "optional-sent" else "-"
    expect(want in conn.get("client-cert", ""),
           "moat server saw client certificate %r" % conn.get("client-cert") +
           diag)
    return "ok"


def tls12_ecdsa_curve_refused(env):
    """RFC 8422 5.1: a TLS 1.2 client whose supported_groups lack the
    curve of the server's ECDSA key does not get an ECDSA suite; with
    nothing else to offer the moat server says why."""
    srv, port = start_moat_server(env, env.pki.server("ecdsa-p256"))
    try:
        cli = s_client12(env, port, ["-groups", "X25519"])
    finally:
        srv.finish(5)
        srv.stop()
    out = cli.stdout + cli.stderr
    diag = "\n    moat server said:\n" + tail(srv.stderr) + \
        "\n    s_client said:\n" + tail(out)
    expect(re.search(r"handshake failed: HANDSHAKE_FAILURE.*RFC 8422 5\.1",
                     srv.stderr), "the moat server did not say why" + diag)
    expect("alert handshake failure" in out, "s_client got no alert" + diag)
    return "ok"


def tshark_capture_works():
    """Whether tshark can capture on lo here (not every sandbox lets it)."""
    if shutil.which("tshark") is None:
        return "tshark not installed (apt-get install tshark)"
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run(["tshark", "-i", "lo", "-c", "1", "-a",
                            "duration:1", "-w", os.path.join(d, "x.pcap")],
                           capture_output=True, timeout=20)
        if p.returncode != 0:
            return "tshark cannot capture on lo here: " + \
                p.stderr.decode("utf-8", "replace").strip()[-200:]
    return None


def tls12_keylog_tshark(env, moat_role):
    """A TLS 1.2 session of moat's captured on loopback with tshark, then
    decrypted with moat's key log: the HTTP request (moat server) or the
    application data (moat client) must be found in the clear."""
    why = tshark_capture_works()
    if why:
        raise CaseSkipped(why)
    tmp = tempfile.mkdtemp(prefix="tshark-", dir=env.pki.dir)
    keylog, pcap = os.path.join(tmp, "keys.log"), os.path.join(tmp, "c.pcap")
    secret = "moat-tls12-secret-%d" % os.getpid()
    if moat_role == "server":
        srv, port = start_moat_server(env, env.pki.server("ecdsa-p256"),
                                      extra=["--tls1.2", "--http",
                                             "--keylog", keylog])
    else:
        srv, port = s_server12(env, [])
    cap = Proc(["tshark", "-i", "lo", "-f", "tcp port %d" % port, "-w",
                pcap])
    try:
        expect(cap.wait_for(r"Capturing on", "both", timeout=10),
               "tshark did not start capturing:\n" + tail(cap.stderr))
        time.sleep(0.3)
        if moat_role == "server":
            cli = Proc(["curl", "-sS", "--tls-max", "1.2", "--cacert",
                        env.pki.p("ca.pem"), "--resolve",
                        "localhost:%d:127.0.0.1" % port,
                        "https://localhost:%d/%s" % (port, secret)])
            cli.finish()
        else:
            cli, rc = run_moat_client(env, port, stdin=(secret + "\n")
                                      .encode(), extra=["--keylog", keylog])
        srv.finish(5)
        time.sleep(0.5)
    finally:
        srv.stop()
        cap.stop()
    diag = "\n    moat said:\n" + tail(srv.stderr + cli.stderr)
    expect(os.path.exists(pcap), "no capture" + diag)
    lines = keylog_lines(keylog)
    expect(any(ln.startswith("CLIENT_RANDOM ") for ln in lines),
           "no CLIENT_RANDOM line in moat's key log" + diag)
    argv = ["tshark", "-r", pcap, "-o", "tls.keylog_file:" + keylog]
    if moat_role == "server":
        p = subprocess.run(argv + ["-Y", "http", "-T", "fields", "-e",
                                   "http.request.uri"],
                           capture_output=True, timeout=30)
        found = secret in p.stdout.decode("utf-8", "replace")
    else:
        p = subprocess.run(argv + ["-Y", "tls.app_data", "-x"],
                           capture_output=True, timeout=30)
        # -x prints the decrypted record as hex + ASCII; the secret is
        # short enough to fit on one line or two.
        text = p.stdout.decode("utf-8", "replace")
        found = secret.encode().hex() in re.sub(r"[^0-9a-f]", "",
                                               "".join(
            ln[6:54] for ln in text.splitlines()
            if re.match(r"[0-9a-f]{4}  ", ln)))
    expect(found, "tshark did not decrypt the capture with moat's key "
           "log:\n" + tail(p.stdout.decode() + p.stderr.decode()) + diag)
    # Without the key log the secret must not be visible.
    p = subprocess.run(["tshark", "-r", pcap, "-x"], capture_output=True,
                       timeout=30)
    expect(secret.encode().hex() not in re.sub(r"[^0-9a-f]", "", "".join(
        ln[6:54] for ln in p.stdout.decode("utf-8", "replace").splitlines()
        if re.match(r"[0-9a-f]{4}  ", ln))), "the secret is in the clear")
    return "ok"


OPENSSL40 = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared",
                                          "peers", "openssl-4.0"))
CERT_COMP = ["zlib", "brotli", "zstd"]


def openssl40(env):
    """argv[0] and environment of OpenSSL 4.0's command (built with zlib,
    brotli and zstd certificate compression), or a skip."""
    exe = os.path.join(OPENSSL40, "bin", "openssl")
    if not os.access(exe, os.X_OK):
        raise CaseSkipped("no OpenSSL 4.0 in %s (needed for certificate "
                          "compression)" % OPENSSL40)
    return exe, dict(os.environ, LD_LIBRARY_PATH=os.path.join(OPENSSL40,
                                                               "lib"))


def moat_has_cert_comp(env, alg):
    """A skip when this moat was built without alg (its setup refuses
    the option before connecting)."""
    probe = subprocess.run([env.moat, "client", "127.0.0.1:1",
                            "--cert-compression", alg], capture_output=True,
                           text=True)
    if "built without" in probe.stderr:
        raise CaseSkipped("moat was built without %s" % alg)


def cert_comp_moat_client(env, alg, client_cert):
    """OpenSSL 4.0's s_server -cert_comp compresses its RSA-2048
    certificate with the algorithm the moat client offers alone (RFC 8879);
    with client_cert it asks for the client's, which moat compresses with
    the algorithm s_server's CertificateRequest lists first of its own."""
    exe, penv = openssl40(env)
    moat_has_cert_comp(env, alg)
    crt, key = env.pki.server("rsa2048")
    extra = ["-Verify", "1", "-CAfile", env.pki.p("ca.pem")] \
        if client_cert else []
    srv = Proc([exe, "s_server", "-accept", "127.0.0.1:0", "-cert", crt,
                "-key", key, "-naccept", "1", "-rev", "-tls1_3",
                "-cert_comp", "-msg"] + extra, env=penv)
    m = srv.wait_for(r"ACCEPT 127\.0\.0\.1:(\d+)", timeout=10)
    if not m:
        srv.stop()
        raise CaseFailed("openssl s_server did not start:\n" +
                         tail(srv.stdout + srv.stderr))
    try:
        cli, rc = run_moat_client(env, int(m.group(1)), client_cert=client_cert,
                                  extra=["--cert-compression", alg])
    finally:
        srv.finish(5)
    sout = srv.stdout + srv.stderr
    diag = "\n    moat client said:\n" + tail(cli.stderr) + \
        "\n    s_server said:\n" + tail(sout)
    params = moat_client_params(cli.stderr)
    expect(rc == 0 and cli.out == expected_echo("openssl", PAYLOAD),
           "no echo" + diag)
    expect(params.get("peer-cert-compression") == alg,
           "the moat client did not get a %s-compressed certificate" % alg +
           diag)
    expect(re.search(r">>> TLS 1\.3, Handshake \[length [0-9a-f]+\], "
                     r"CompressedCertificate", sout),
           "s_server did not send a CompressedCertificate" + diag)
    if client_cert:
        expect(params.get("own-cert-compression") == alg and
               re.search(r"<<< TLS 1\.3, Handshake \[length [0-9a-f]+\], "
                         r"CompressedCertificate", sout),
               "the client certificate did not go compressed" + diag)
    return "ok"


def cert_comp_moat_server(env, alg, client_cert):
    """The moat server compresses its RSA-2048 certificate for OpenSSL
    4.0's s_client with the one algorithm it allows; with client_cert it
    also takes s_client's compressed certificate."""
    exe, penv = openssl40(env)
    moat_has_cert_comp(env, alg)
    srv, port = start_moat_server(env, env.pki.server("rsa2048"),
                                  client_auth=client_cert,
                                  extra=["--cert-compression", alg])
    extra = ["-cert", env.pki.p("client.pem"), "-key",
             env.pki.p("client.key")] if client_cert else []
    try:
        cli = s_client12(env, port, ["-msg"] + extra, exe=exe, penv=penv,
                         tls="-tls1_3")
    finally:
        srv_rc = srv.finish(5)
        srv.stop()
    diag = "\n    moat server said:\n" + tail(srv.stderr) + \
        "\n    s_client said:\n" + tail(cli.stdout + cli.stderr)
    conn = moat_server_conn(srv.stderr)
    expect(conn is not None and srv_rc == 0, "no handshake at moat" + diag)
    expect(PAYLOAD.decode().strip() in cli.stdout, "no echo" + diag)
    expect(conn.get("cert-comp") == alg and
           re.search(r"<<< TLS 1\.3, Handshake \[length [0-9a-f]+\], "
                     r"CompressedCertificate", cli.stdout),
           "s_client did not get a %s-compressed certificate" % alg + diag)
    if client_cert:
        expect(conn.get("peer-cert-comp") == alg,
               "the moat server did not get a compressed client "
               "certificate" + diag)
    return "ok"


def cert_comp_off(env):
    """With --cert-compression none the moat client offers nothing and
    OpenSSL 4.0's s_server -cert_comp sends a plain Certificate."""
    exe, penv = openssl40(env)
    crt, key = env.pki.server("rsa2048")
    srv = Proc([exe, "s_server", "-accept", "127.0.0.1:0", "-cert", crt,
                "-key", key, "-naccept", "1", "-rev", "-tls1_3",
                "-cert_comp", "-msg"], env=penv)
    m = srv.wait_for(r"ACCEPT 127\.0\.0\.1:(\d+)", timeout=10)
    if not m:
        srv.stop()
        raise CaseFailed("openssl s_server did not start")
    try:
        cli, rc = run_moat_client(env, int(m.group(1)),
                                  extra=["--cert-compression", "none"])
    finally:
        srv.finish(5)
    sout = srv.stdout + srv.stderr
    diag = "\n    moat client said:\n" + tail(cli.stderr) + \
        "\n    s_server said:\n" + tail(sout)
    expect(rc == 0 and moat_client_params(cli.stderr).get(
        "peer-cert-compression") == "-" and
        re.search(r">>> TLS 1\.3, Handshake \[length [0-9a-f]+\], "
                  r"Certificate$", sout, re.M) and
        "CompressedCertificate" not in sout,
        "compression was used though the client turned it off" + diag)
    return "ok"


# ---- record_size_limit (RFC 8449) -----------------------------------------

RSL_LINE = b"r" * 3000 + b"\n"  # several records at any of the limits


def gnutls_app_records(text):
    """(received, sent) application data record lengths from a GnuTLS
    tool's -d 10 log: received ones are the record body, sent ones include
    the 5-byte header."""
    got = [int(n) for n in re.findall(
        r"Received Packet Application Data\(23\) with length: (\d+)", text)]
    sent = [int(n) for n in re.findall(
        r"Sent Packet\[\d+\] Application Data\(23\) in epoch \d+ and "
        r"length: (\d+)", text)]
    return got, sent


def rsl_overhead(tls12, cipher):
    """What protection adds to a record's plaintext: TLS 1.3's type byte
    and tag; TLS 1.2 GCM's explicit nonce and tag (ChaCha20: the tag)."""
    if not tls12:
        return 1 + 16
    return 16 if "CHACHA" in (cipher or "") else 8 + 16


def rsl_check_gnutls(tool_log, peer_limit, our_limit, tls12, cipher, diag,
                     exact=True):
    """GnuTLS received records no larger than its limit allows, and sent
    none larger than ours; with exact, the largest each way is at the
    limit (the data needs several records)."""
    got, sent = gnutls_app_records(tool_log)
    ovh = rsl_overhead(tls12, cipher)
    # TLS 1.3: the limit counts the type byte, which ovh counts too
    want_in = peer_limit - (0 if tls12 else 1) + ovh
    want_out = 5 + our_limit - (0 if tls12 else 1) + ovh
    for what, lens, want in (("received", got, want_in),
                             ("sent (header included)", sent, want_out)):
        expect(lens and max(lens) <= want and
               (not exact or max(lens) == want),
               "GnuTLS %s records of %s bytes, wanted at most %d%s" %
               (what, sorted(set(lens)), want,
                " and one of %d" % want if exact else "") + diag)


def rsl_moat_client_gnutls(env, tls12):
    """The moat client offers a limit of 600 to gnutls-serv --recordsize
    512: each side's records stay within the other's limit (GnuTLS's
    log shows the lengths) and the data comes back whole."""
    if not env.have_gnutls_serv:
        raise CaseSkipped("gnutls-serv not installed "
                          "(apt-get install gnutls-bin)")
    crt, key = env.pki.server("ecdsa-p256")
    for _attempt in range(3):
        port = free_port()
        srv = Proc(env.stdbuf + [
            "gnutls-serv", "--echo", "-p", str(port), "--x509certfile", crt,
            "--x509keyfile", key, "--priority",
            gnutls_priority(None, None, tls12), "--disable-client-cert",
            "--recordsize", "512", "-d", "10"])
        if wait_port(port, srv, timeout=10):
            break
        srv.stop()
    else:
        raise CaseFailed("gnutls-serv did not start")
    try:
        cli, rc = run_moat_client(env, port, stdin=RSL_LINE, extra=[
            "--record-size-limit", "600"] + (["--tls1.2"] if tls12 else []))
    finally:
        srv.stop()
    diag = "\n    moat client said:\n" + tail(cli.stderr) + \
        "\n    gnutls-serv said:\n" + tail(srv.stdout + srv.stderr, 4)
    params = moat_client_params(cli.stderr)
    expect(rc == 0 and cli.out == RSL_LINE, "no echo (rc %s)" % rc + diag)
    peer = 512 if tls12 else 513  # GnuTLS adds TLS 1.3's type byte
    expect(params.get("peer-record-size-limit") == str(peer) and
           params.get("own-record-size-limit") == "600",
           "moat client negotiated %s / %s" %
           (params.get("peer-record-size-limit"),
            params.get("own-record-size-limit")) + diag)
    rsl_check_gnutls(srv.stdout + srv.stderr, peer, 600, tls12,
                     params.get("cipher"), diag)
    return "ok"


def rsl_moat_server_gnutls(env, tls12):
    """gnutls-cli --recordsize 512 to a moat server with a limit of 700:
    the moat server answers, and each side keeps to the other's limit
    (gnutls-cli writes lines shorter than its own record size, so the
    moat server's echo stays under GnuTLS's limit; TLS 1.3's encrypted
    flight, an RSA-2048 chain, reaches it)."""
    if not env.have_gnutls_cli:
        raise CaseSkipped("gnutls-cli not installed "
                          "(apt-get install gnutls-bin)")
    srv, port = start_moat_server(env, env.pki.server("rsa2048"),
                                  extra=["--record-size-limit", "700"])
    cli = Proc(env.stdbuf + [
        "gnutls-cli", "-p", str(port), "127.0.0.1", "--x509cafile",
        env.pki.p("ca.pem"), "--verify-hostname", "localhost",
        "--sni-hostname", "localhost", "--priority",
        gnutls_priority(None, None, tls12), "--recordsize", "512",
        "-d", "10"])
    try:
        # gnutls-cli sends one record per read of its input and drops
        # what does not fit: a line at a time, each under its limit
        for i in range(4):
            cli.write(bytes([0x61 + i]) * 500 + b"\n")
            cli.wait_for(chr(0x61 + i) + "{500}", timeout=10)
        cli.close_stdin()
        cli.finish(10)
    finally:
        srv.finish(5)
        srv.stop()
    diag = "\n    moat server said:\n" + tail(srv.stderr) + \
        "\n    gnutls-cli said:\n" + tail(cli.stdout + cli.stderr, 4)
    conn = moat_server_conn(srv.stderr) or {}
    peer = 512 if tls12 else 513
    expect(all(cli.stdout.count(chr(0x61 + i) * 500) == 1 for i in range(4)),
           "no echo" + diag)
    expect(conn.get("rsl") == "700" and conn.get("peer-rsl") == str(peer),
           "moat server negotiated rsl=%s peer-rsl=%s" %
           (conn.get("rsl"), conn.get("peer-rsl")) + diag)
    got, _ = gnutls_app_records(cli.stdout + cli.stderr)
    rsl_check_gnutls(cli.stdout + cli.stderr, peer, 700, tls12,
                     conn.get("cipher"), diag, exact=False)
    if not tls12:
        expect(max(got) == peer + 16, "the encrypted flight did not fill "
               "records to GnuTLS's limit: %s" % sorted(set(got)) + diag)
    return "ok"


def rsl_openssl40_ignores(env, moat_role):
    """OpenSSL 4.0 does not implement record_size_limit: it does not
    answer the moat client's limit of 256, nor offer one to the moat
    server, so nothing is negotiated and records of the whole line go
    both ways."""
    exe, penv = openssl40(env)
    if moat_role == "client":
        crt, key = env.pki.server("ecdsa-p256")
        srv = Proc([exe, "s_server", "-accept", "127.0.0.1:0", "-cert", crt,
                    "-key", key, "-naccept", "1", "-rev"], env=penv)
        m = srv.wait_for(r"ACCEPT 127\.0\.0\.1:(\d+)", timeout=10)
        if not m:
            srv.stop()
            raise CaseFailed("openssl s_server did not start:\n" +
                             tail(srv.stdout + srv.stderr))
        try:
            cli, rc = run_moat_client(env, int(m.group(1)), stdin=RSL_LINE,
                                      extra=["--record-size-limit", "256"])
        finally:
            srv.finish(5)
        diag = "\n    moat client said:\n" + tail(cli.stderr) + \
            "\n    s_server said:\n" + tail(srv.stdout + srv.stderr)
        params = moat_client_params(cli.stderr)
        expect(rc == 0 and cli.out == expected_echo("openssl", RSL_LINE),
               "no echo (rc %s)" % rc + diag)
        expect(params.get("peer-record-size-limit") == "0" and
               params.get("own-record-size-limit") == "0",
               "a limit was negotiated with a peer that has none" + diag)
        return "ok"
    srv, port = start_moat_server(env, env.pki.server("ecdsa-p256"),
                                  extra=["--record-size-limit", "256"])
    cli = Proc([exe, "s_client", "-connect", "127.0.0.1:%d" % port,
                "-CAfile", env.pki.p("ca.pem"), "-servername", "localhost",
                "-verify_return_error"], env=penv)
    try:
        cli.write(RSL_LINE)
        cli.wait_for(r"r{3000}", timeout=10)
        cli.finish(10)
    finally:
        srv.finish(5)
        srv.stop()
    diag = "\n    moat server said:\n" + tail(srv.stderr) + \
        "\n    s_client said:\n" + tail(cli.stdout + cli.stderr)
    conn = moat_server_conn(srv.stderr) or {}
    expect(cli.stdout.count("r" * 3000) == 1, "no echo" + diag)
    expect(conn.get("rsl") == "0" and conn.get("peer-rsl") == "0",
           "the moat server answered a limit that was not offered" + diag)
    expect(moat_server_end(srv.stderr) == "close_notify",
           "moat server connection ended with %r" %
           moat_server_end(srv.stderr) + diag)
    return "ok"


def build_cases(env):
    cases = []

    def add(name, fn, *args, **kw):
        cases.append((name, lambda: fn(env, *args, **kw)))

    # record_size_limit (RFC 8449): GnuTLS implements it, OpenSSL 4.0 not.
    for v, tls12 in (("tls1_3", False), ("tls1_2", True)):
        add("moat-client>gnutls-server/record-size-limit-%s" % v,
            rsl_moat_client_gnutls, tls12)
        add("gnutls-client>moat-server/record-size-limit-%s" % v,
            rsl_moat_server_gnutls, tls12)
    add("moat-client>openssl40-server/record-size-limit-ignored",
        rsl_openssl40_ignores, "client")
    add("openssl40-client>moat-server/record-size-limit-ignored",
        rsl_openssl40_ignores, "server")
    # Certificate compression (RFC 8879) against OpenSSL 4.0.
    for alg in CERT_COMP:
        for auth in (False, True):
            tag = alg + ("/client-cert" if auth else "")
            add("moat-client>openssl40-server/cert-comp/" + tag,
                cert_comp_moat_client, alg, auth)
            add("openssl40-client>moat-server/cert-comp/" + tag,
                cert_comp_moat_server, alg, auth)
    add("moat-client>openssl40-server/cert-comp/off", cert_comp_off)
    for peer in ("openssl", "gnutls", "python"):
        for suite in SUITES:
            for group in GROUPS:
                for cert in CERTS:
                    tag = "%s/%s/%s" % (suite, group, cert)
                    add("moat-client>%s-server/%s" % (peer, tag),
                        moat_client_case, peer, suite, group, cert)
                    add("%s-client>moat-server/%s" % (peer, tag),
                        moat_server_case, peer, suite, group, cert)
        base = ("TLS_AES_128_GCM_SHA256", "P-256", "ecdsa-p256")
        # HRR: the client's first key share is X25519, the server wants P-256.
        add("moat-client>%s-server/hrr" % peer, moat_client_case, peer,
            *base, moat_groups="X25519:P-256", hrr=True)
        # ... and the other way round; Python's client offers X25519 first
        # by default.
        add("%s-client>moat-server/hrr" % peer, moat_server_case, peer,
            *base, server_groups="P-256", hrr=True,
            client_groups=None if peer == "python" else "X25519:P-256")
        add("moat-client>%s-server/no-hrr" % peer, moat_client_case, peer,
            "TLS_AES_128_GCM_SHA256", "X25519", "ecdsa-p256",
            moat_groups="X25519:P-256", hrr=False)
        add("moat-client>%s-server/alpn" % peer, moat_client_case, peer,
            *base, alpn="h2,http/1.1", server_alpn="http/1.1,h2"
            if peer != "gnutls" else "h2")
        add("%s-client>moat-server/alpn" % peer, moat_server_case, peer,
            *base, alpn="h2", server_alpn="http/1.1,h2")
        add("moat-client>%s-server/sni" % peer, moat_client_case, peer,
            *base, sni=True)
        add("moat-client>%s-server/client-cert" % peer, moat_client_case,
            peer, *base, client_auth=True)
        add("%s-client>moat-server/client-cert" % peer, moat_server_case,
            peer, *base, client_auth=True)
        add("moat-client>%s-server/key-update" % peer, moat_client_case,
            peer, *base, key_update=True)
        add("%s-client>moat-server/key-update-by-moat" % peer,
            moat_server_case, peer, *base, key_update=True)
        if peer != "python":  # Python's ssl has no KeyUpdate call
            add("%s-client>moat-server/key-update-by-peer" % peer,
                moat_server_case, peer, *base, peer_key_update=True)
        add("moat-client>%s-server/close-notify" % peer, moat_client_case,
            peer, *base, check_close=True)
        add("%s-client>moat-server/close-notify" % peer, moat_server_case,
            peer, *base, check_close=True)
        add("moat-client>%s-server/tls12-only" % peer,
            tls12_peer_server, peer)
        add("%s-client>moat-server/tls12-only" % peer,
            tls12_peer_client, peer)
        for aead in TLS12_AEADS:
            for group in GROUPS:
                for cert in TLS12_CERTS:
                    tag = "%s/%s/%s" % (tls12_suite(aead, cert), group, cert)
                    add("moat-client>%s-server/tls12/%s" % (peer, tag),
                        tls12_moat_client_case, peer, aead, group, cert)
                    add("%s-client>moat-server/tls12/%s" % (peer, tag),
                        tls12_moat_server_case, peer, aead, group, cert)
        base12 = ("AES_128_GCM_SHA256", "P-256", "ecdsa-p256")
        add("moat-client>%s-server/tls12/alpn" % peer,
            tls12_moat_client_case, peer, *base12, alpn="h2,http/1.1",
            server_alpn="http/1.1,h2" if peer != "gnutls" else "h2")
        add("%s-client>moat-server/tls12/alpn" % peer,
            tls12_moat_server_case, peer, *base12, alpn="h2",
            server_alpn="http/1.1,h2")
        add("moat-client>%s-server/tls12/sni" % peer, tls12_moat_client_case,
            peer, *base12, sni=True)
        add("moat-client>%s-server/tls12/client-cert" % peer,
            tls12_moat_client_case, peer, *base12, client_auth=True)
        add("%s-client>moat-server/tls12/client-cert" % peer,
            tls12_moat_server_case, peer, *base12, client_auth=True)
    for aead in TLS12_AEADS:
        for group in GROUPS:
            for cert in TLS12_CERTS:
                add("curl-client>moat-server/tls12/%s/%s/%s" %
                    (tls12_suite(aead, cert), group, cert), tls12_curl_case,
                    aead, group, cert)
    for peer in ("openssl", "gnutls"):
        add("moat-client>%s-server/tls12/resume-ticket" % peer,
            tls12_resume_moat_client, peer, False)
        add("moat-client>%s-server/tls12/resume-session-id" % peer,
            tls12_resume_moat_client, peer, True)
        add("%s-client>moat-server/tls12/renegotiation" % peer,
            tls12_renegotiation_to_moat_server, peer)
        add("moat-client>%s-server/tls12/renegotiation" % peer,
            tls12_renegotiation_to_moat_client, peer)
    add("openssl-client>moat-server/tls12/resume-ticket",
        tls12_resume_moat_server, False, False)
    add("openssl-client>moat-server/tls12/resume-session-id",
        tls12_resume_moat_server, True, False)
    add("openssl-client>moat-server/tls12/resume-session-id-no-ticket-server",
        tls12_resume_moat_server, False, True)
    add("moat-client>openssl35-server/tls12/no-ems", tls12_no_ems_server)
    add("openssl35-client>moat-server/tls12/no-ems", tls12_no_ems_client)
    add("moat-client>openssl-server/tls12/client-cert-required",
        tls12_client_cert_to_moat_client, "required")
    add("moat-client>openssl-server/tls12/client-cert-optional-none",
        tls12_client_cert_to_moat_client, "optional")
    for how in ("optional-none", "optional-sent", "required-missing"):
        add("openssl-client>moat-server/tls12/client-cert-%s" % how,
            tls12_client_cert_to_moat_server, how)
    add("openssl-client>moat-server/tls12/ecdsa-curve-not-offered",
        tls12_ecdsa_curve_refused)
    add("moat-client-tls12>openssl-tls13-server/protocol-version",
        tls12_only_moat_vs_tls13_peer, "client")
    add("moat-client>proxy>openssl-server/tls12/downgrade-sentinel",
        downgrade_sentinel_real_server)
    add("openssl-tls13-client>moat-server-tls12/protocol-version",
        tls12_only_moat_vs_tls13_peer, "server")
    add("curl-client>moat-server/tls12/keylog-tshark", tls12_keylog_tshark,
        "server")
    add("moat-client>openssl-server/tls12/keylog-tshark",
        tls12_keylog_tshark, "client")
    for name in BAD_CERTS:
        add("moat-client>openssl-server/bad-cert/%s" % name, bad_cert_case,
            name)
    add("moat-client>openssl-server/crl-good", crl_accepts_good)
    add("moat-client>openssl-server/resumption", resumption_moat_client)
    add("openssl-client>moat-server/resumption", resumption_moat_server)
    add("moat-client>openssl-server/resumption-sha384-hrr",
        resumption_sha384_hrr)
    add("openssl-client>moat-server/early-data-skipped",
        early_data_to_moat_server)
    add("moat-client>gnutls-server/resumption", resumption_gnutls_server)
    add("moat-client>openssl-server/optional-client-cert",
        optional_client_cert)
    add("moat-client>openssl-server/padded-fragmented", moat_client_against,
        ["-record_padding", "512", "-max_send_frag", "512"])
    add("moat-client>openssl-server/hrr-cookie", moat_client_against,
        ["-stateless", "-groups", "P-256"], groups="X25519:P-256", hrr=True)
    add("moat-client>openssl-server/session-big-ticket", session_big_ticket)
    for v in ("tls1_2", "tls1_3"):
        add("moat-client>openssl-server/exporter-%s" % v, exporter_case, v)
    add("moat-client>openssl-server/insecure-self-signed",
        insecure_accepts_selfsigned)
    add("moat-client>openssl-server/keylog", keylog_case, "client")
    add("openssl-client>moat-server/keylog-env", keylog_case, "server")
    add("moat-client>python-server/data-sizes", sizes_to_moat_client, 0)
    add("moat-client>python-server/data-sizes-read-1000",
        sizes_to_moat_client, 1000)
    add("moat-client>python-server/data-sizes-read-7", sizes_to_moat_client,
        7)
    add("python-client>moat-server/data-sizes", sizes_to_moat_server)
    add("cli/verify", cli_verify)
    add("cli/cert-show", cli_cert_show)
    add("cli/bad-alpn", cli_bad_alpn)
    add("cli/help-and-arguments", cli_help_and_arguments)
    add("cli/encrypted-key-password", encrypted_key_password)
    add("moat-client>openssl-server/missing-intermediate-named",
        missing_intermediate_named)
    add("moat-client>plain-http-server/not-tls-named", not_tls_server_named)
    add("cli/server-host-name-and-once-status",
        server_host_name_and_once_status)
    add("python-http>moat-server/http-flag", http_case, "flag")
    add("python-http>moat-server/http-detected", http_case, "detect")
    return cases


# ---- Python ssl helpers (run as child processes) ---------------------------

def py_server_main(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if args.tls12_only:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        if args.ciphers:
            ctx.set_ciphers(args.ciphers)
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(args.cert, args.key)
    if args.curve:
        ctx.set_ecdh_curve(args.curve)
    if args.alpn:
        ctx.set_alpn_protocols(args.alpn.split(","))
    if args.cafile:
        ctx.load_verify_locations(args.cafile)
        ctx.verify_mode = (ssl.CERT_REQUIRED if args.require_client
                           else ssl.CERT_OPTIONAL)
    seen = {}

    def sni_cb(sock, name, context):
        seen["sni"] = name
        return None
    ctx.sni_callback = sni_cb
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(PROC_TIMEOUT)
    print("listening on 127.0.0.1:%d" % ls.getsockname()[1], flush=True)
    raw, _ = ls.accept()
    raw.settimeout(10)
    result = {"sni": None}
    try:
        s = ctx.wrap_socket(raw, server_side=True,
                            suppress_ragged_eofs=False)
        result.update(version=s.version(), cipher=s.cipher()[0],
                      alpn=s.selected_alpn_protocol(), sni=seen.get("sni"))
        peer = s.getpeercert()
        result["peer"] = str(peer.get("subject")) if peer else None
        total = 0
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    result["close"] = "close_notify"
                    break
                total += len(data)
                s.sendall(data)
            s.unwrap()
        except ssl.SSLEOFError:
            result["close"] = "eof"
        result["bytes"] = total
    except (ssl.SSLError, OSError) as e:
        result["error"] = "%s: %s" % (type(e).__name__, e)
    print("RESULT " + json.dumps(result), flush=True)
    return 0 if "error" not in result else 1


def py_client_main(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if args.tls12_only:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        if args.ciphers:
            ctx.set_ciphers(args.ciphers)
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(args.cafile)
    if args.curve:
        ctx.set_ecdh_curve(args.curve)
    if args.alpn:
        ctx.set_alpn_protocols(args.alpn.split(","))
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    result = {}
    try:
        raw = socket.create_connection(("127.0.0.1", args.port), timeout=10)
        s = ctx.wrap_socket(raw, server_hostname=args.servername)
        result.update(version=s.version(), cipher=s.cipher()[0],
                      alpn=s.selected_alpn_protocol())
        msg = b"first line from the peer\n"
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        result["echo_ok"] = got == msg
        s.unwrap()
        s.close()
    except (ssl.SSLError, OSError) as e:
        result["error"] = "%s: %s" % (type(e).__name__, e)
    print("RESULT " + json.dumps(result), flush=True)
    return 0 if "error" not in result else 1


def py_sizes_server_main(args):
    """Waits for a line, then sends the sized chunks and closes."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(args.cert, args.key)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(PROC_TIMEOUT)
    print("listening on 127.0.0.1:%d" % ls.getsockname()[1], flush=True)
    raw, _ = ls.accept()
    raw.settimeout(10)
    result = {"sent": 0}
    try:
        s = ctx.wrap_socket(raw, server_side=True)
        line = b""
        while not line.endswith(b"\n"):
            chunk = s.recv(100)
            if not chunk:
                break
            line += chunk
        for chunk in sized_chunks()[1]:
            s.sendall(chunk)
            result["sent"] += len(chunk)
        s.unwrap()
    except (ssl.SSLError, OSError) as e:
        result["error"] = "%s: %s" % (type(e).__name__, e)
    print("RESULT " + json.dumps(result), flush=True)
    return 0 if "error" not in result else 1


def py_sizes_client_main(args):
    """Sends the sized chunks and reads the echo back, on one thread: an
    ssl.SSLSocket (one OpenSSL SSL object) must not be read and written
    from two threads at once.  After each chunk whatever echo has arrived
    is drained without blocking, so neither side's buffers fill up."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(args.cafile)
    data, chunks = sized_chunks()
    result = {}
    got = bytearray()

    def drain(s):
        s.setblocking(False)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    raise ssl.SSLEOFError("the server closed mid-echo")
                got.extend(chunk)
        except (ssl.SSLWantReadError, BlockingIOError):
            pass
        finally:
            s.settimeout(10)

    try:
        raw = socket.create_connection(("127.0.0.1", args.port), timeout=10)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        for chunk in chunks:
            s.sendall(chunk)
            drain(s)
        while len(got) < len(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            got.extend(chunk)
        s.unwrap()
        s.close()
    except (ssl.SSLError, OSError) as e:
        result["error"] = "%s: %s" % (type(e).__name__, e)
    result["echoed"] = len(got)
    result["same"] = bytes(got) == data
    print("RESULT " + json.dumps(result), flush=True)
    return 0 if "error" not in result else 1


def py_http_main(args):
    import http.client
    ctx = ssl.create_default_context(cafile=args.cafile)
    ctx.set_alpn_protocols(["http/1.1"])
    result = {}
    try:
        conn = http.client.HTTPSConnection("localhost", args.port,
                                           context=ctx, timeout=10)
        conn.request("GET", "/")
        resp = conn.getresponse()
        result["status"] = resp.status
        result["body"] = resp.read().decode("utf-8", "replace")
        conn.close()
    except (ssl.SSLError, OSError, http.client.HTTPException) as e:
        result["error"] = "%s: %s" % (type(e).__name__, e)
    print("RESULT " + json.dumps(result), flush=True)
    return 0 if "error" not in result else 1


# ---- main --------------------------------------------------------------------

def run_case(name, fn):
    t0 = time.monotonic()
    try:
        fn()
        status, msg = "PASS", ""
    except CaseSkipped as e:
        status, msg = "SKIP", str(e)
    except CaseFailed as e:
        status, msg = "FAIL", str(e)
    except Exception as e:  # a bug in the runner is a failure too
        status, msg = "FAIL", "%s: %s" % (type(e).__name__, e)
    return name, status, msg, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--moat", help="path to the moat binary")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("-k", "--filter", help="run only cases matching regex")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--keep", action="store_true",
                    help="keep the generated PKI directory")
    # Child modes.
    ap.add_argument("--py-server", action="store_true",
                    help=argparse.SUPPRESS)
    ap.add_argument("--py-client", action="store_true",
                    help=argparse.SUPPRESS)
    ap.add_argument("--py-http", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--py-sizes-server", action="store_true",
                    help=argparse.SUPPRESS)
    ap.add_argument("--py-sizes-client", action="store_true",
                    help=argparse.SUPPRESS)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--cafile")
    ap.add_argument("--curve")
    ap.add_argument("--alpn")
    ap.add_argument("--port", type=int)
    ap.add_argument("--servername")
    ap.add_argument("--require-client", action="store_true")
    ap.add_argument("--tls12-only", action="store_true")
    ap.add_argument("--ciphers")
    args = ap.parse_args()
    if args.py_server:
        return py_server_main(args)
    if args.py_client:
        return py_client_main(args)
    if args.py_http:
        return py_http_main(args)
    if args.py_sizes_server:
        return py_sizes_server_main(args)
    if args.py_sizes_client:
        return py_sizes_client_main(args)

    if shutil.which("openssl") is None:
        print("interop: the openssl command is required "
              "(apt-get install openssl)")
        return 1
    moat = args.moat or os.environ.get("MOAT_BIN")
    if not moat:
        for cand in ("build/moat", "build-tools/moat"):
            if os.path.exists(os.path.join(HERE, "..", "..", cand)):
                moat = os.path.join(HERE, "..", "..", cand)
                break
    if not moat or not os.access(moat, os.X_OK):
        print("interop: no moat binary (use --moat PATH)")
        return 1
    moat = os.path.abspath(moat)

    tmp = tempfile.mkdtemp(prefix="moat-interop-")
    try:
        pki = PKI(tmp)
        env = Env(moat, pki, args.verbose)
        cases = build_cases(env)
        if args.filter:
            rx = re.compile(args.filter)
            cases = [c for c in cases if rx.search(c[0])]
        if args.list:
            for name, _ in cases:
                print(name)
            return 0
        t0 = time.monotonic()
        pki.build()
        print("interop: PKI in %.1fs; %d cases, %d jobs; gnutls-serv %s, "
              "gnutls-cli %s" % (time.monotonic() - t0, len(cases), args.jobs,
                                 "found" if env.have_gnutls_serv else
                                 "missing",
                                 "found" if env.have_gnutls_cli else
                                 "missing"), flush=True)
        counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
        failed = []
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futs = [pool.submit(run_case, n, f) for n, f in cases]
            for fut in futs:
                name, status, msg, dt = fut.result()
                counts[status] += 1
                if status == "FAIL":
                    failed.append(name)
                if status != "PASS" or args.verbose:
                    print("%s %s (%.1fs)%s" % (status, name, dt,
                                               ": " + msg if msg else ""),
                          flush=True)
        if failed:
            print("\nfailed cases:")
            for name in failed:
                print("  " + name)
        print("interop: %d passed, %d failed, %d skipped (%.0fs)" %
              (counts["PASS"], counts["FAIL"], counts["SKIP"],
               time.monotonic() - t0))
        return 1 if counts["FAIL"] else 0
    finally:
        if args.keep:
            print("interop: PKI kept in " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
