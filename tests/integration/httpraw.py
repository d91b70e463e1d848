"""Raw HTTP/1.1 over a socket, for tests that need control over bytes on the
wire: pipelining, trickled bodies, stray bytes, chunked framing."""
import socket
import time


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body

    def __repr__(self):
        return f"Reply({self.status}, {self.body[:80]!r})"


class Conn:
    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def reply(self, head_only=False):
        """Reads one reply (Content-Length or chunked)."""
        status_line = self._line()
        parts = status_line.split(b" ", 2)
        assert parts[0].startswith(b"HTTP/1."), status_line
        status = int(parts[1])
        headers = {}
        while True:
            line = self._line()
            if not line:
                break
            k, _, v = line.partition(b":")
            headers[k.decode().strip().lower()] = v.decode().strip()
        if head_only or status in (100, 204, 304):
            return Reply(status, headers, b"")
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():
                        pass
                    break
                body += self._take(size)
                assert self._take(2) == b"\r\n"
            return Reply(status, headers, body)
        if "content-length" in headers:
            return Reply(status, headers, self._take(int(headers["content-length"])))
        # until close
        try:
            while True:
                self._fill()
        except (EOFError, ConnectionResetError):
            pass
        body, self.buf = self.buf, b""
        return Reply(status, headers, body)

    def read_some(self, timeout=0.2):
        """Whatever has arrived (kept in buf), waiting at most timeout."""
        old = self.sock.gettimeout()
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
            self.buf += chunk
        except (socket.timeout, BlockingIOError):
            pass
        finally:
            self.sock.settimeout(old)
        return self.buf

    def closed(self, timeout=5):
        """True when the server closes the connection within timeout (any
        bytes it sends first are kept in self.buf)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def request(method, path, body=b"", headers=None, host="127.0.0.1"):
    """The bytes of one request; Content-Length is added for a body unless
    the headers say otherwise."""
    h = {"Host": host}
    h.update(headers or {})
    if body and "Content-Length" not in h and "Transfer-Encoding" not in h:
        h["Content-Length"] = str(len(body))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items())
    return head.encode() + b"\r\n" + body


def chunked(body, size=7):
    out = b""
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n\r\n"


def wait_for(pred, timeout=10, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()
