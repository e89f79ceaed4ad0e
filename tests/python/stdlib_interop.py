#!/usr/bin/env python3
"""The standard library on moat against peers that are not moat.

usage: stdlib_interop.py MODULE_DIR

Runs, with the interpreter running this script:
  * stdlib clients on moat (http.client, urllib.request, smtplib STARTTLS,
    imaplib STARTTLS, ftplib FTP_TLS, an asyncio client) against
    openssl s_server, gnutls-serv and small stdlib servers on OpenSSL;
  * the reverse: the same stdlib clients on OpenSSL against the stdlib
    servers (http.server, SMTP, IMAP, FTP, asyncio) running on moat;
  * the ssl tutorial scenario on moat (create_default_context,
    wrap_socket, getpeercert, cipher, cert_store_stats, session_stats,
    VERIFY_CRL_CHECK_LEAF against a revoked and a good certificate,
    check_hostname, hostname_checks_common_name).
Each side runs in its own process; moat's side has MODULE_DIR first on
PYTHONPATH and checks that moat's _ssl is the one loaded.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.abspath(__file__)


# ---- test PKI (openssl command line) -------------------------------------

def make_pki(d):
    def run(cmd):
        subprocess.run(cmd, shell=True, cwd=d, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
        "-nodes -keyout ca.key -out ca.pem -days 30 -subj '/CN=interop CA' "
        "-addext basicConstraints=critical,CA:TRUE "
        "-addext keyUsage=critical,keyCertSign,cRLSign")
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca=c\n[c]\ndatabase=index.txt\n"
                "crlnumber=crlnumber\ndefault_md=sha256\n"
                "default_crl_days=30\n")
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "crlnumber"), "w") as f:
        f.write("01\n")
    for name, san, cn in (("server", "DNS:localhost,IP:127.0.0.1", "localhost"),
                          ("revoked", "DNS:localhost", "localhost"),
                          ("cnonly", None, "localhost")):
        ext = "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n" \
              "extendedKeyUsage=serverAuth\n"
        if san:
            ext += "subjectAltName=%s\n" % san
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext)
        run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
            "-nodes -keyout %s.key -out %s.csr -subj /CN=%s" % (name, name, cn))
        run("openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key "
            "-CAcreateserial -days 10 -extfile %s.ext -out %s.pem"
            % (name, name, name))
    run("openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem "
        "-revoke revoked.pem")
    run("openssl ca -config ca.cnf -keyfile ca.key -cert ca.pem -gencrl "
        "-out crl.pem")
    with open(os.path.join(d, "ca+crl.pem"), "w") as f:
        f.write(open(os.path.join(d, "ca.pem")).read())
        f.write(open(os.path.join(d, "crl.pem")).read())


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


# ---- stdlib servers (run with whichever _ssl is loaded) ------------------

def server_context(pki):
    import ssl
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(os.path.join(pki, "server.pem"),
                        os.path.join(pki, "server.key"))
    return ctx


def line_server(handler):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)

    def loop():
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            threading.Thread(target=guard, args=(handler, c), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return ls.getsockname()[1]


def guard(handler, c):
    try:
        handler(c)
    except Exception as e:  # reported to the client as a dropped connection
        sys.stderr.write("server: %r\n" % (e,))
    finally:
        c.close()


def smtp_handler(ctx):
    def h(c):
        f = c.makefile("rb")
        c.sendall(b"220 interop ESMTP\r\n")
        tls = False
        while True:
            line = f.readline()
            if not line:
                return
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO"):
                c.sendall(b"250-interop\r\n" + (b"" if tls else b"250-STARTTLS\r\n")
                          + b"250 OK\r\n")
            elif cmd == b"STARTTLS":
                c.sendall(b"220 go ahead\r\n")
                c = ctx.wrap_socket(c, server_side=True)
                f = c.makefile("rb")
                tls = True
            elif cmd == b"NOOP":
                c.sendall(b"250 %s\r\n" % (c.version().encode() if tls else b"plain"))
            elif cmd == b"QUIT":
                c.sendall(b"221 bye\r\n")
                return
            else:
                c.sendall(b"500 what\r\n")
    return h


def imap_handler(ctx):
    def h(c):
        f = c.makefile("rb")
        c.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] interop\r\n")
        while True:
            line = f.readline()
            if not line:
                return
            tag, _, rest = line.strip().partition(b" ")
            cmd = rest.split(b" ")[0].upper()
            if cmd == b"CAPABILITY":
                c.sendall(b"* CAPABILITY IMAP4rev1 STARTTLS\r\n" + tag +
                          b" OK done\r\n")
            elif cmd == b"STARTTLS":
                c.sendall(tag + b" OK begin TLS\r\n")
                c = ctx.wrap_socket(c, server_side=True)
                f = c.makefile("rb")
            elif cmd == b"NOOP":
                c.sendall(b"* OK " + c.cipher()[0].encode() + b"\r\n" + tag +
                          b" OK NOOP done\r\n")
            elif cmd == b"LOGOUT":
                c.sendall(b"* BYE\r\n" + tag + b" OK bye\r\n")
                return
            else:
                c.sendall(tag + b" BAD what\r\n")
    return h


FTP_DATA = b"moat interop file\r\n" * 200


def ftp_handler(ctx):
    def h(c):
        f = c.makefile("rb")
        c.sendall(b"220 interop FTP\r\n")
        prot_p = False
        pasv = None
        while True:
            line = f.readline()
            if not line:
                return
            cmd, _, arg = line.strip().partition(b" ")
            cmd = cmd.upper()
            if cmd == b"AUTH":
                c.sendall(b"234 AUTH TLS ok\r\n")
                c = ctx.wrap_socket(c, server_side=True)
                f = c.makefile("rb")
            elif cmd == b"USER":
                c.sendall(b"331 password\r\n")
            elif cmd == b"PASS":
                c.sendall(b"230 logged in\r\n")
            elif cmd == b"PBSZ":
                c.sendall(b"200 PBSZ=0\r\n")
            elif cmd == b"PROT":
                prot_p = arg.upper() == b"P"
                c.sendall(b"200 PROT ok\r\n")
            elif cmd == b"TYPE":
                c.sendall(b"200 type\r\n")
            elif cmd == b"PASV":
                pasv = socket.socket()
                pasv.bind(("127.0.0.1", 0))
                pasv.listen(1)
                p = pasv.getsockname()[1]
                c.sendall(b"227 Entering Passive Mode (127,0,0,1,%d,%d)\r\n"
                          % (p >> 8, p & 255))
            elif cmd == b"RETR":
                c.sendall(b"150 sending\r\n")
                d, _ = pasv.accept()
                if prot_p:
                    d = ctx.wrap_socket(d, server_side=True)
                d.sendall(FTP_DATA)
                if prot_p:
                    d = d.unwrap()
                d.close()
                pasv.close()
                c.sendall(b"226 done\r\n")
            elif cmd == b"QUIT":
                c.sendall(b"221 bye\r\n")
                return
            else:
                c.sendall(b"502 no\r\n")
    return h


def https_server(ctx):
    import http.server

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = ("hello from %s over %s" % (
                __import__("ssl").OPENSSL_VERSION.split()[0],
                self.connection.version())).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


def asyncio_server(ctx):
    import asyncio
    ready = threading.Event()
    port = []

    async def handle(r, w):
        data = await r.readline()
        w.write(data.upper())
        await w.drain()
        w.close()

    async def main():
        s = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
        port.append(s.sockets[0].getsockname()[1])
        ready.set()
        await s.serve_forever()
    threading.Thread(target=lambda: asyncio.run(main()), daemon=True).start()
    ready.wait(10)
    return port[0]


def role_servers(pki):
    ctx = server_context(pki)
    ports = {
        "smtp": line_server(smtp_handler(ctx)),
        "imap": line_server(imap_handler(ctx)),
        "ftp": line_server(ftp_handler(ctx)),
        "https": https_server(ctx),
        "asyncio": asyncio_server(ctx),
    }
    print(json.dumps(ports), flush=True)
    sys.stdin.read()  # until the parent closes our stdin


# ---- stdlib clients -------------------------------------------------------

class Results:
    def __init__(self, side):
        self.side = side
        self.failed = 0

    def check(self, name, fn):
        try:
            detail = fn()
            print("ok   %s: %s%s" % (self.side, name,
                                     " (%s)" % detail if detail else ""),
                  flush=True)
        except Exception as e:
            self.failed += 1
            print("FAIL %s: %s: %r" % (self.side, name, e), flush=True)


def client_context(pki):
    import ssl
    return ssl.create_default_context(cafile=os.path.join(pki, "ca.pem"))


def role_clients(pki, ports, side):
    import ssl
    import http.client
    import urllib.request
    import smtplib
    import imaplib
    import ftplib
    import asyncio
    r = Results(side)
    ctx = client_context(pki)

    def https(port, expect):
        def f():
            c = http.client.HTTPSConnection("localhost", port, context=ctx,
                                            timeout=10)
            c.request("GET", "/")
            v = c.sock.version()
            resp = c.getresponse()
            body = resp.read()
            assert resp.status == 200, resp.status
            assert expect in body, body[:200]
            c.close()
            return v
        return f

    def urllib_get(port, expect):
        def f():
            with urllib.request.urlopen("https://localhost:%d/" % port,
                                        context=ctx, timeout=10) as u:
                body = u.read()
            assert expect in body, body[:200]
        return f

    for name in ("s_server", "gnutls"):
        if name in ports:
            marker = b"s_server" if name == "s_server" else b"GnuTLS"
            r.check("http.client -> %s" % name, https(ports[name], marker))
            r.check("urllib.request -> %s" % name,
                    urllib_get(ports[name], marker))
    if "https" in ports:
        r.check("http.client -> http.server", https(ports["https"], b"hello from"))
        r.check("urllib.request -> http.server",
                urllib_get(ports["https"], b"hello from"))

    def smtp():
        with smtplib.SMTP("127.0.0.1", ports["smtp"], timeout=10) as s:
            s.ehlo()
            s.starttls(context=ctx)
            code, msg = s.noop()
            assert code == 250 and msg.startswith(b"TLSv1."), msg
            return msg.decode()
    r.check("smtplib STARTTLS", smtp)

    def imap():
        m = imaplib.IMAP4("localhost", ports["imap"])
        m.starttls(ssl_context=ctx)
        typ, data = m.noop()
        assert typ == "OK", (typ, data)
        m.logout()
    r.check("imaplib STARTTLS", imap)

    def ftp():
        f = ftplib.FTP_TLS(context=ctx, timeout=10)
        f.connect("localhost", ports["ftp"])
        f.login("u", "p")
        f.prot_p()
        buf = []
        f.retrbinary("RETR file", buf.append)
        f.quit()
        assert b"".join(buf) == FTP_DATA
    r.check("ftplib FTP_TLS (PROT P)", ftp)

    def aio():
        async def main():
            rd, wr = await asyncio.open_connection("localhost", ports["asyncio"],
                                                   ssl=ctx)
            wr.write(b"ping\n")
            data = await rd.readline()
            v = wr.get_extra_info("ssl_object").version()
            wr.close()
            await wr.wait_closed()
            return data, v
        data, v = asyncio.run(main())
        assert data == b"PING\n", data
        return v
    r.check("asyncio client", aio)
    return r.failed


def role_tutorial(pki, port_good, port_revoked, port_cn):
    """The ssl documentation's client walk-through, on moat."""
    import ssl
    r = Results("moat")

    def basics():
        ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.pem"))
        with socket.create_connection(("127.0.0.1", port_good)) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                cert = s.getpeercert()
                assert cert["subject"] == ((("commonName", "localhost"),),), cert
                assert ("DNS", "localhost") in cert["subjectAltName"]
                assert s.cipher()[1] in ("TLSv1.2", "TLSv1.3"), s.cipher()
                stats = ctx.session_stats()
                assert stats["connect"] == 1 and stats["connect_good"] == 1, stats
                what = "%s %s" % (s.version(), s.cipher()[0])
        assert ctx.cert_store_stats()["x509_ca"] == 1, ctx.cert_store_stats()
        return what
    r.check("tutorial: wrap_socket, getpeercert, cipher, stats", basics)

    def crl(port, expect_ok):
        def f():
            ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca+crl.pem"))
            ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
            try:
                with socket.create_connection(("127.0.0.1", port)) as raw:
                    with ctx.wrap_socket(raw, server_hostname="localhost"):
                        pass
            except ssl.SSLCertVerificationError as e:
                assert not expect_ok, e
                assert e.verify_code == 23, (e.verify_code, e.verify_message)
                return e.verify_message
            assert expect_ok, "the revoked certificate was accepted"
        return f
    r.check("tutorial: VERIFY_CRL_CHECK_LEAF, good certificate", crl(port_good, True))
    r.check("tutorial: VERIFY_CRL_CHECK_LEAF, revoked certificate",
            crl(port_revoked, False))

    def hostname():
        ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.pem"))
        try:
            with socket.create_connection(("127.0.0.1", port_good)) as raw:
                ctx.wrap_socket(raw, server_hostname="example.org")
        except ssl.SSLCertVerificationError as e:
            assert "Hostname mismatch" in e.verify_message, e.verify_message
            return e.verify_message
        raise AssertionError("a wrong host name was accepted")
    r.check("tutorial: check_hostname refuses a wrong name", hostname)

    def cn():
        ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.pem"))
        for on in (False, True):
            ctx.hostname_checks_common_name = on
            try:
                with socket.create_connection(("127.0.0.1", port_cn)) as raw:
                    ctx.wrap_socket(raw, server_hostname="localhost").close()
                ok = True
            except ssl.SSLCertVerificationError:
                ok = False
            assert ok == on, (on, ok)
    r.check("tutorial: hostname_checks_common_name", cn)
    return r.failed


# ---- the parent ------------------------------------------------------------

def child(role, module_dir, *args, stdin=None):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if module_dir:
        env["PYTHONPATH"] = module_dir
    return subprocess.Popen([sys.executable, HERE, "--role", role] + list(args),
                            env=env, stdin=stdin, stdout=subprocess.PIPE,
                            text=True)


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--role":
        role = sys.argv[2]
        import ssl
        want_moat = os.environ.get("PYTHONPATH") is not None
        if ssl.OPENSSL_VERSION.startswith("moat ") != want_moat:
            print("FAIL %s: the wrong _ssl is loaded: %s" % (role, ssl.OPENSSL_VERSION))
            sys.exit(1)
        if role == "servers":
            role_servers(sys.argv[3])
        elif role == "clients":
            sys.exit(1 if role_clients(sys.argv[3], json.loads(sys.argv[4]),
                                       sys.argv[5]) else 0)
        elif role == "tutorial":
            sys.exit(1 if role_tutorial(sys.argv[3], *map(int, sys.argv[4:7]))
                     else 0)
        return
    module_dir = os.path.abspath(sys.argv[1])
    d = tempfile.mkdtemp(prefix="moat-pyinterop-")
    procs = []
    failed = 0
    try:
        make_pki(d)
        ports = {}
        port = free_port()
        procs.append(subprocess.Popen(
            ["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-www",
             "-cert", "server.pem", "-key", "server.key", "-quiet"],
            cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL))
        if wait_port(port):
            ports["s_server"] = port
        extra = {}
        for name in ("revoked", "cnonly"):
            p = free_port()
            procs.append(subprocess.Popen(
                ["openssl", "s_server", "-accept", "127.0.0.1:%d" % p, "-www",
                 "-cert", name + ".pem", "-key", name + ".key", "-quiet"],
                cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL))
            wait_port(p)
            extra[name] = p
        if shutil.which("gnutls-serv"):
            port = free_port()
            procs.append(subprocess.Popen(
                ["gnutls-serv", "--http", "-p", str(port), "--x509certfile",
                 "server.pem", "--x509keyfile", "server.key"],
                cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL))
            if wait_port(port):
                ports["gnutls"] = port
        else:
            print("skip: gnutls-serv not installed (apt-get install gnutls-bin)")
        for srv_moat in (False, True):
            s = child("servers", module_dir if srv_moat else None, d,
                      stdin=subprocess.PIPE)
            procs.append(s)
            sp = json.loads(s.stdout.readline())
            cl_ports = dict(sp)
            if not srv_moat:
                cl_ports.update(ports)  # moat's clients also meet openssl/gnutls
            c = child("clients", None if srv_moat else module_dir, d,
                      json.dumps(cl_ports),
                      "OpenSSL client -> moat server" if srv_moat
                      else "moat client -> OpenSSL/GnuTLS server")
            out, _ = c.communicate(timeout=300)
            sys.stdout.write(out)
            failed += c.returncode != 0
            s.stdin.close()
            s.wait(timeout=10)
        t = child("tutorial", module_dir, d, str(ports.get("s_server", 0)),
                  str(extra["revoked"]), str(extra["cnonly"]))
        out, _ = t.communicate(timeout=300)
        sys.stdout.write(out)
        failed += t.returncode != 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(d, ignore_errors=True)
    print("stdlib interop: %s" % ("FAILED" if failed else "all passed"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
