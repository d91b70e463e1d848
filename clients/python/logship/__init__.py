"""logship: a logging.Handler that never blocks, on liblogship.

    import logging, logship
    log = logging.getLogger("billing")
    log.addHandler(logship.LogshipHandler("tcp://127.0.0.1:5170"))
    log.warning("invoice %s overdue", "INV-7", extra={"customer": 42})

emit() reads the record on the caller's thread (holding the GIL only for
that) and copies it into liblogship's bounded lock-free queue; liblogship's
own thread, which never takes the GIL, batches and sends it to logshipd's
acknowledged raw TCP input (over TLS for tls:// URLs), reconnecting and resending, so each record is
stored once. A server that is slow or down never makes the caller wait
(unless overflow="block"), and the handler never raises into it.

Each record carries: the formatted message (self.format(record) when the
handler has a formatter, else record.getMessage()), the level (CRITICAL
crit, ERROR error, WARNING warning, INFO info, DEBUG debug), the time of
record.created, app (the logger's name unless app= is given), host, pid,
and fields: thread (the thread's name), exc_info (the traceback text),
stack_info, and every extra= key (as str()).

Across os.fork() the child gets a working handler of its own (what the
parent had queued stays the parent's). At exit, every open handler is
flushed, all of them within flush_timeout, then closed.
"""
import atexit
import logging
import os
import threading
import time
import weakref

from . import _logship

__all__ = ["LogshipHandler", "__version__"]
__version__ = "0.1.0"

_OVERFLOW = {"drop_oldest": _logship.DROP_OLDEST, "drop_newest": _logship.DROP_NEWEST,
             "block": _logship.BLOCK}


def _record_keys():
    r = logging.LogRecord("n", logging.INFO, "p", 1, "m", None, None)
    own = set(r.__dict__)
    # what Formatter.format() adds, and LogRecord attributes of newer Pythons
    return frozenset(own | {"message", "asctime", "taskName"}), len(r.__dict__)


_keys, _count = _record_keys()
_logship.set_record_keys(_keys, _count, logging.LogRecord.getMessage,
                         logging._defaultFormatter, logging.LogRecord)

_open_handlers = weakref.WeakSet()
_open_lock = threading.Lock()


class LogshipHandler(_logship.HandlerBase, logging.Handler):
    """A logging.Handler that sends records to logshipd through liblogship.

    url           logshipd's acknowledged TCP input: "tcp://HOST:PORT" (its
                  --tcp), or "tls://HOST:PORT" over TLS (its --tcp-tls)
    level         the handler's level (logging.NOTSET: all)
    app           the app of every record (default: each record's logger name)
    topic         the topic of every record (default: the server's <app>.<level>)
    host          the host of every record (default: this machine's name)
    spool_dir     a directory where what the server can not take yet is kept
                  on disk and sent later, also by the next process
    queue_bytes   memory for queued records (default 8 MiB)
    overflow      when the queue is full: "drop_oldest" (default),
                  "drop_newest", or "block" (the caller waits up to
                  block_timeout seconds, without the GIL, then it is dropped)
    block_timeout see overflow="block" (default 1.0)
    flush_timeout how long flush(), close() and the exit flush wait for the
                  server (default 5.0 seconds)
    tls           None (default): TLS when the URL is tls://; True: TLS (a
                  tcp:// or HOST:PORT URL is taken as tls://); False: plain
                  TCP (a tls:// URL is then a ValueError). The server's
                  certificate must chain to tls_ca_file (else the system's
                  trust store) and be for the URL's host (name or address);
                  one that does not verify is a failed connection, retried
                  with backoff, and the records wait in the queue
    tls_ca_file   PEM CA certificates to trust instead of the system's
    tls_cert_file PEM client certificate (chain) to present, for a server
                  with --tls-client-ca
    tls_key_file  its PEM private key (default: in tls_cert_file)

    Constructor errors (a bad URL, a spool directory in use, a TLS file
    that can not be read) raise; log calls never do.
    """

    def __init__(self, url="tcp://127.0.0.1:5170", *, level=logging.NOTSET, app=None,
                 topic=None, host=None, spool_dir=None, queue_bytes=0,
                 overflow="drop_oldest", block_timeout=1.0, flush_timeout=5.0, tls=None,
                 tls_ca_file=None, tls_cert_file=None, tls_key_file=None):
        logging.Handler.__init__(self, level)
        url = _tls_url(url, tls, tls_ca_file, tls_cert_file, tls_key_file)
        if overflow not in _OVERFLOW:
            raise ValueError(f"logship: overflow must be one of {', '.join(_OVERFLOW)}")
        if flush_timeout is None or flush_timeout < 0:
            raise ValueError("logship: flush_timeout must be a number of seconds >= 0")
        self.url = url
        self.flush_timeout = float(flush_timeout)
        self._open(url, app=app, topic=topic, host=host,
                   spool_dir=os.fspath(spool_dir) if spool_dir is not None else None,
                   queue_bytes=int(queue_bytes), overflow=_OVERFLOW[overflow],
                   block_timeout_ms=int(block_timeout * 1000),
                   flush_timeout_ms=int(self.flush_timeout * 1000),
                   tls_ca_file=_path(tls_ca_file), tls_cert_file=_path(tls_cert_file),
                   tls_key_file=_path(tls_key_file))
        with _open_lock:
            _open_handlers.add(self)

    def close(self):
        """Flushes (up to flush_timeout), stops liblogship's thread, and
        closes the handler; later records are dropped."""
        with _open_lock:
            _open_handlers.discard(self)
        self._close_logger()
        logging.Handler.close(self)

    def __repr__(self):
        return f"<LogshipHandler {self.url} ({logging.getLevelName(self.level)})>"


def _path(p):
    return os.fspath(p) if p is not None else None


def _tls_url(url, tls, ca, cert, key):
    """The URL liblogship is given: tls:// when TLS is asked for."""
    if not isinstance(url, str):
        raise TypeError("logship: url must be a str")
    if tls not in (None, True, False):
        raise ValueError("logship: tls must be None, True or False")
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    if scheme in ("https", "http"):
        raise ValueError(f"logship: {url}: the handler sends to logshipd's acknowledged TCP "
                         "input, not HTTP: tcp://HOST:PORT (--tcp) or tls://HOST:PORT "
                         "(--tcp-tls)")
    if scheme not in ("", "tcp", "tls"):
        raise ValueError(f"logship: {url}: the URL must be tcp://HOST:PORT or tls://HOST:PORT")
    if tls is False and scheme == "tls":
        raise ValueError(f"logship: {url} is a TLS URL but tls=False")
    if tls is None:
        tls = scheme == "tls"
    if not tls and (ca is not None or cert is not None or key is not None):
        raise ValueError("logship: tls_ca_file, tls_cert_file and tls_key_file need TLS "
                         "(a tls:// URL or tls=True)")
    if key is not None and cert is None:
        raise ValueError("logship: tls_key_file needs tls_cert_file")
    return ("tls://" if tls else "tcp://") + rest


def _flush_all_at_exit():
    """Every open handler flushed, all within the longest flush_timeout,
    then closed (logging.shutdown() then finds them closed)."""
    with _open_lock:
        handlers = list(_open_handlers)
    if not handlers:
        return
    deadline = time.monotonic() + max(h.flush_timeout for h in handlers)
    for h in handlers:
        left = max(0.0, deadline - time.monotonic())
        try:
            h._close_logger(left)
        except Exception:  # noqa: BLE001 - nothing may stop the exit
            pass


def _after_fork_in_child():
    with _open_lock:
        handlers = list(_open_handlers)
    for h in handlers:
        h._after_fork()


# logging registered its shutdown when it was imported, before this:
# atexit runs this first
atexit.register(_flush_all_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
