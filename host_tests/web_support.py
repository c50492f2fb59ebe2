"""Run firmware code that serves HTTP under MicroPython (or CPython) in a child process.

The server tests and the portal tests start the real firmware in the MicroPython unix port,
wait for it to print ``READY``, and talk to it over loopback with ``http.client`` — the way
a phone would, just without the radio.
"""

import http.client
import os
import socket
import subprocess
import sys
import time

from mp import MICROPYTHON, ROOT, micropython_env

INTERPRETERS = ("micropython", "cpython")
STARTUP_TIMEOUT = 20  # seconds; the unix port compiles the modules on first import


# The end of every server script the web tests run: start ``srv`` (an HttpServer the script
# made), say READY for Child.wait_for, and serve until the test stops the child.
SERVE = """
async def main():
    await srv.start()
    print("READY")
    while True:
        await asyncio.sleep(1)

asyncio.run(main())
"""


def free_port(kind=socket.SOCK_STREAM):
    """A loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(interpreter, code, heapsize="256k", cwd=ROOT):
    """argv and environment running ``code`` in ``cwd`` with firmware/ importable."""
    if interpreter == "micropython":
        return [MICROPYTHON, "-X", "heapsize=%s" % heapsize, "-c", code], micropython_env(cwd=cwd)
    env = dict(os.environ)
    paths = [os.path.join(ROOT, "firmware"), os.path.join(ROOT, "tools", "shims")]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return [sys.executable, "-c", code], env


def compiled_env():
    """The environment that runs the .mpy build, as the device loads it: compiled from
    source, a 64k heap has only a few hundred bytes to spare beside the compiler."""
    from mp import micropython_env

    return {"MICROPYPATH": micropython_env(compiled=True)["MICROPYPATH"]}


class Child:
    """A firmware process; ``stop()`` returns its output for failure messages."""

    def __init__(self, interpreter, code, heapsize="256k", cwd=ROOT, env=None):
        argv, env_base = command(interpreter, code, heapsize, cwd)
        env = dict(env_base, **(env or {}))
        self.proc = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self.lines = []

    def wait_for(self, marker, timeout=STARTUP_TIMEOUT):
        """Read output lines until one contains ``marker``; fail with the output if not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline().decode(errors="replace")
            if not line:
                break
            self.lines.append(line)
            if marker in line:
                return line
        raise AssertionError("no %r from the child:\n%s" % (marker, self.stop()))

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rest = self.proc.stdout.read().decode(errors="replace")
        self.proc.stdout.close()
        return "".join(self.lines) + rest


def request(port, method, path, body=None, headers=None, timeout=10):
    """One HTTP exchange; returns (status, headers dict lower-cased, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def raw_exchange(port, data, timeout=10, shutdown=True):
    """Send raw bytes, return everything the server answers before closing."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if shutdown:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:  # the server answered and closed first (ENOTCONN): read what came
                pass
        chunks = []
        while True:
            try:
                chunk = s.recv(4096)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
