#!/usr/bin/env python3
"""moat server under load, on 127.0.0.1 only, with Python's own ssl module
(OpenSSL) as the client.

    tests/interop/server_load.py --moat build/moat [--clients 1000]

1. 1,000 concurrent clients each do a handshake and one echoed request;
   all must succeed while a few slowloris clients are connected (three
   that trickle a ClientHello a byte at a time, two that trickle
   application data after their handshake), which must not hold them up;
   the trickling handshakes are cut at the handshake deadline, the
   trickling data keeps being echoed; afterwards the server's RSS returns
   to its idle level.
2. --max-conns: at the cap the server says so, a further client waits in
   the backlog and is served as soon as one closes.
3. Out of file descriptors (EMFILE on accept): the server says so, keeps
   running, and serves the next client once descriptors are free again.

Prints "server-load: ok" and exits 0, or says what failed and exits 1.
"""

import argparse
import asyncio
import os
import re
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HS_TIMEOUT = 4.0  # the server's --handshake-timeout in this test
SERVER_FLAGS = ["--handshake-timeout", str(HS_TIMEOUT)]


class Failed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failed(what)


def make_cert(tmp):
    key, crt = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    return crt, key


class Server:
    def __init__(self, moat, tmp, name, crt, key, extra=(), nofile=None):
        self.log = os.path.join(tmp, name + ".log")
        self.err = open(self.log, "wb")

        def limit():
            if nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.proc = subprocess.Popen(
            [moat, "server", "--port", "0", "--cert", crt, "--key", key] +
            SERVER_FLAGS + list(extra),
            stdout=subprocess.PIPE, stderr=self.err, preexec_fn=limit)
        line = self.proc.stdout.readline().decode()
        m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            self.stop()
            raise Failed("moat server did not start: %r\n%s" %
                         (line, self.text()[-2000:]))
        self.port = int(m.group(1))

    def text(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1])
        raise Failed("no VmRSS for the server")

    def wait_log(self, pattern, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = re.search(pattern, self.text())
            if m:
                return m
            time.sleep(0.05)
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


def client_ctx(crt):
    return ssl.create_default_context(cafile=crt)


async def one_client(ctx, port, i, timeout=30.0):
    """Handshake, one request, its echo, close.  True on success."""
    async def run():
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=ctx, server_hostname="localhost")
        msg = b"request %d from the load test\n" % i
        writer.write(msg)
        await writer.drain()
        got = await reader.readexactly(len(msg))
        writer.close()
        try:
            await writer.wait_closed()
        except (ssl.SSLError, ConnectionError):
            pass
        return got == msg
    try:
        return await asyncio.wait_for(run(), timeout)
    except (asyncio.TimeoutError, OSError, ssl.SSLError,
            asyncio.IncompleteReadError) as e:
        return "%s: %s" % (type(e).__name__, e)


# The first bytes of a TLS record carrying a ClientHello: the server must
# wait for the rest, which never comes in time.
CH_START = bytes([0x16, 0x03, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0xfc,
                  0x03, 0x03]) + bytes(range(32)) * 4


async def slow_handshake(port, stop):
    """Sends a ClientHello a byte every 0.3 s.  Returns how long the server
    kept the connection open, or None if it was still open at stop."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    t0 = time.monotonic()
    try:
        for b in CH_START:
            if stop.is_set():
                return None
            writer.write(bytes([b]))
            await writer.drain()
            try:
                data = await asyncio.wait_for(reader.read(100), 0.3)
                if data == b"":
                    return time.monotonic() - t0
            except asyncio.TimeoutError:
                pass
        return None
    except OSError:
        return time.monotonic() - t0
    finally:
        writer.close()


async def slow_data(ctx, port, stop, counts, idx):
    """Handshakes, then sends a byte every 0.3 s and reads its echo; counts
    the bytes echoed until stop."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=ctx, server_hostname="localhost")
    try:
        while not stop.is_set():
            writer.write(b"z")
            await writer.drain()
            got = await asyncio.wait_for(reader.readexactly(1), 10)
            if got == b"z":
                counts[idx] += 1
            await asyncio.sleep(0.3)
    finally:
        writer.close()


def wait_rss(srv, limit_kb, timeout):
    end = time.monotonic() + timeout
    rss = srv.rss_kb()
    while rss > limit_kb and time.monotonic() < end:
        time.sleep(0.2)
        rss = srv.rss_kb()
    return rss


SANITIZED = False


async def load_phase(moat, tmp, crt, key, nclients):
    srv = Server(moat, tmp, "load", crt, key, ["--idle-timeout", "20"])
    try:
        ctx = client_ctx(crt)
        # Warm up (lazy tables, the allocator's first arenas), then take the
        # idle size.
        for i in range(20):
            r = await one_client(ctx, srv.port, i)
            expect(r is True, "warm-up client %d: %s" % (i, r))
        time.sleep(0.5)
        idle = srv.rss_kb()

        stop = asyncio.Event()
        counts = [0, 0]
        slow_hs = [asyncio.ensure_future(slow_handshake(srv.port, stop))
                   for _ in range(3)]
        slow_dt = [asyncio.ensure_future(slow_data(ctx, srv.port, stop,
                                                   counts, k))
                   for k in range(2)]
        await asyncio.sleep(0.5)  # the slowloris clients are in

        t0 = time.monotonic()
        results = await asyncio.gather(
            *[one_client(ctx, srv.port, i) for i in range(nclients)])
        took = time.monotonic() - t0
        bad = [(i, r) for i, r in enumerate(results) if r is not True]
        expect(not bad, "%d of %d clients failed, e.g. %r\n%s" %
               (len(bad), nclients, bad[:3], srv.text()[-3000:]))
        peak = srv.rss_kb()

        # The trickling handshakes end at the deadline, not before and not
        # never; the trickling data is still being served.
        done, _ = await asyncio.wait(slow_hs, timeout=HS_TIMEOUT + 10)
        held = [t.result() for t in done]
        expect(len(held) == 3 and all(h is not None and
                                      HS_TIMEOUT - 0.5 <= h <= HS_TIMEOUT + 8
                                      for h in held),
               "slow handshakes were held for %r s, want about %.0f" %
               (held, HS_TIMEOUT))
        before = list(counts)
        await asyncio.sleep(1.0)
        expect(all(counts[k] > before[k] for k in range(2)),
               "slow data clients stopped being echoed: %r -> %r" %
               (before, counts))
        stop.set()
        await asyncio.gather(*slow_dt, return_exceptions=True)

        text = srv.text()
        ok = len(re.findall(r": version=TLSv1\.3 ", text))
        expect(ok >= nclients + 20 + 2,
               "server logged %d handshakes, want %d" % (ok, nclients + 22))
        failed = re.findall(r".*handshake failed.*", text)
        expect(len(failed) == 3 and all("TIMEOUT" in f for f in failed),
               "server logged failures other than the 3 slow handshakes:\n" +
               "\n".join(failed[:5]))

        limit = idle + max(2048, idle // 4)
        rss = wait_rss(srv, limit, 10)
        # AddressSanitizer keeps freed memory in quarantine: the RSS of a
        # sanitized server cannot come back, so only the plain build is
        # judged on it.
        expect(rss <= limit or SANITIZED,
               "server RSS %d kB after the load, idle %d kB (peak %d kB)" %
               (rss, idle, peak))
        print("server-load: %d clients in %.1f s; slow handshakes held "
              "%.1f s; RSS idle %d kB, peak %d kB, after %d kB" %
              (nclients, took, max(held), idle, peak, rss), flush=True)
    finally:
        srv.stop()


def tls_connect(ctx, port, timeout):
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def cap_phase(moat, tmp, crt, key):
    srv = Server(moat, tmp, "cap", crt, key, ["--max-conns", "3"])
    held = []
    try:
        ctx = client_ctx(crt)
        for _ in range(3):
            held.append(tls_connect(ctx, srv.port, 5))
        m = srv.wait_log(r"3 connections open, the limit \(--max-conns 3\)",
                         5)
        expect(m, "no line about the --max-conns limit:\n" + srv.text())
        # A fourth client connects (the backlog takes it) but is not served.
        raw = socket.create_connection(("127.0.0.1", srv.port), timeout=1)
        fourth = ctx.wrap_socket(raw, server_hostname="localhost",
                                 do_handshake_on_connect=False)
        try:
            fourth.do_handshake()
            raise Failed("a fourth client was served beyond --max-conns 3")
        except (socket.timeout, TimeoutError):
            pass
        held.pop().close()
        fourth.settimeout(5)
        fourth.do_handshake()
        fourth.sendall(b"after the cap\n")
        expect(fourth.recv(100) == b"after the cap\n",
               "the client let in after the cap got no echo")
        fourth.close()
        expect(srv.wait_log(r"accepting again", 5),
               "no line saying the server accepts again")
    finally:
        for s in held:
            s.close()
        srv.stop()


def emfile_phase(moat, tmp, crt, key):
    srv = Server(moat, tmp, "emfile", crt, key, ["--max-conns", "500"],
                 nofile=40)
    raws = []
    try:
        ctx = client_ctx(crt)
        for _ in range(60):
            raws.append(socket.create_connection(("127.0.0.1", srv.port),
                                                 timeout=5))
        m = srv.wait_log(r"accept failed: Too many open files", 5)
        expect(m, "no line about running out of descriptors:\n" +
               srv.text()[-2000:])
        for s in raws:
            s.close()
        raws = []
        expect(srv.proc.poll() is None, "the server exited on EMFILE")
        # Descriptors are free again once the server sees those closes.
        end = time.monotonic() + 10
        while True:
            try:
                s = tls_connect(ctx, srv.port, 3)
                s.sendall(b"after EMFILE\n")
                expect(s.recv(100) == b"after EMFILE\n", "no echo")
                s.close()
                break
            except (OSError, ssl.SSLError):
                if time.monotonic() > end:
                    raise Failed("no client served after EMFILE:\n" +
                                 srv.text()[-2000:])
                time.sleep(0.2)
    finally:
        for s in raws:
            s.close()
        srv.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--moat", required=True)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--sanitized", action="store_true",
                    help="the moat binary runs under ASan (RSS not judged)")
    args = ap.parse_args()
    global SANITIZED
    SANITIZED = args.sanitized
    if shutil.which("openssl") is None:
        print("server-load: the openssl command is required")
        return 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.clients + 200
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            print("server-load: needs %d file descriptors, ulimit -Hn is %d" %
                  (want, hard))
            return 1
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    tmp = tempfile.mkdtemp(prefix="moat-load-")
    t0 = time.monotonic()
    try:
        crt, key = make_cert(tmp)
        asyncio.run(load_phase(os.path.abspath(args.moat), tmp, crt, key,
                               args.clients))
        cap_phase(args.moat, tmp, crt, key)
        emfile_phase(args.moat, tmp, crt, key)
    except Failed as e:
        print("server-load: FAILED: %s" % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("server-load: ok (%.0f s)" % (time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
