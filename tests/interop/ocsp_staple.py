#!/usr/bin/env python3
"""OCSP stapling against OpenSSL, both versions, over 127.0.0.1:

  - openssl s_server -status_file (good, revoked, another certificate's)
    -> moat client --ocsp
  - moat server --ocsp-response (good) -> openssl s_client -status

The PKI and the responses come from tests/x509/make_ocsp.sh in a
temporary directory.  Prints "ocsp-staple: ok" when every case passed.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def start(argv, pattern):
    """Starts a server and waits for the line giving its port."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    deadline = time.time() + 10
    seen = []
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        m = re.search(pattern, line)
        if m:
            return proc, int(m.group(1))
    proc.kill()
    proc.wait()
    raise RuntimeError("server did not start: %s\n%s" % (argv, "".join(seen)))


def stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def moat_client(args, d, port, name, mode, tls12):
    argv = [args.moat, "client", "127.0.0.1:%d" % port,
            "--cafile", os.path.join(d, "ca.pem"),
            "--servername", name + ".test.example", "--ocsp", mode]
    argv += ["--max-version", "1.2"] if tls12 else ["--min-version", "1.3"]
    r = subprocess.run(argv, input="", capture_output=True, text=True,
                       timeout=30)
    return r.returncode, r.stderr


def openssl_server(d, name, staple, tls12):
    argv = ["openssl", "s_server", "-accept", "127.0.0.1:0",
            "-cert", os.path.join(d, name + ".pem"),
            "-key", os.path.join(d, name + ".key"),
            "-status_file", os.path.join(d, staple + ".resp"),
            "-naccept", "1", "-rev", "-tls1_2" if tls12 else "-tls1_3"]
    return start(argv, r"ACCEPT 127\.0\.0\.1:(\d+)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moat", required=True)
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="moat-ocsp-interop-")
    failures = []

    def expect(cond, what, text=""):
        if not cond:
            failures.append(what)
            print("FAIL: %s\n%s" % (what, text[-1500:]))
        else:
            print("ok: %s" % what)

    try:
        subprocess.run(["sh", os.path.join(ROOT, "tests/x509/make_ocsp.sh"),
                        d], check=True)
        for tls12 in (False, True):
            v = "TLS 1.2" if tls12 else "TLS 1.3"
            # OpenSSL staples a good response: moat requires one.
            srv, port = openssl_server(d, "good", "good", tls12)
            rc, err = moat_client(args, d, port, "good", "require", tls12)
            stop(srv)
            expect(rc == 0 and "ocsp: good" in err,
                   "%s: s_server -status_file good -> moat --ocsp require" % v,
                   err)
            # A revoked certificate's response: the handshake fails.
            srv, port = openssl_server(d, "revoked", "revoked", tls12)
            rc, err = moat_client(args, d, port, "revoked", "request", tls12)
            stop(srv)
            expect(rc != 0 and "keyCompromise" in err,
                   "%s: s_server -status_file revoked -> moat refuses" % v,
                   err)
            # A response about another certificate: refused.
            srv, port = openssl_server(d, "good", "good2", tls12)
            rc, err = moat_client(args, d, port, "good", "request", tls12)
            stop(srv)
            expect(rc != 0 and "certID mismatch" in err and
                   "bad_certificate_status_response" in err,
                   "%s: s_server -status_file (another certificate's) -> "
                   "moat refuses" % v, err)
            # moat staples: openssl s_client -status prints the response.
            argv = [args.moat, "server", "--port", "0", "--once",
                    "--cert", os.path.join(d, "good.pem"),
                    "--key", os.path.join(d, "good.key"),
                    "--ocsp-response", os.path.join(d, "good.resp")]
            srv, port = start(argv, r"listening on 127\.0\.0\.1:(\d+)")
            cli = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                   "-status", "-CAfile", os.path.join(d, "ca.pem"),
                   "-servername", "good.test.example",
                   "-verify_return_error", "-tls1_2" if tls12 else "-tls1_3"]
            r = subprocess.run(cli, input="", capture_output=True, text=True,
                               timeout=30)
            stop(srv)
            out = r.stdout + r.stderr
            expect("OCSP Response Status: successful" in out and
                   "Cert Status: good" in out,
                   "%s: moat server --ocsp-response -> s_client -status" % v,
                   out)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if failures:
        print("ocsp-staple: %d failed" % len(failures))
        return 1
    print("ocsp-staple: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
