/* _logship.c - logship._logship, the C half of logship.LogshipHandler: a
 * logging.Handler whose emit() and handle() are C, on liblogship.
 *
 * emit() runs on the caller's thread with the GIL, and holds it only to
 * read the LogRecord (message, level, time, logger name, thread name,
 * exc_info, stack_info, the extra= keys) and hand the record to
 * logship_write(), which copies it into liblogship's lock-free queue and
 * returns; liblogship's own thread formats, batches and sends it and never
 * takes the GIL. (One slow path: when the queue is full, overflow=
 * "drop_oldest" evicts under the queue's tail lock, which the sender holds
 * only while copying memory, never across I/O: queue.h invariant 4.)
 * handle() skips logging.Handler's lock: nothing here needs
 * it (logship_write() may be called from any thread at once). With
 * overflow="block" the GIL is let go for the write, which may wait for
 * room. Nothing here raises into the caller: a record that can not be read
 * goes to Handler.handleError(), like any handler's.
 *
 * Who owns what: the handler owns its logger (logship_open() in _open(),
 * logship_close() in _close_logger() or at deallocation). emit() borrows the
 * UTF-8 of the record's strings for the length of the call (references
 * are held until logship_write() has copied them).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <logship.h>
#include <math.h>
#include <string.h>
#include <time.h>

#define FIELDS_STACK 32
#define FIELD_MAX    16384 /* characters of one field's value */

typedef struct {
    PyObject_HEAD logship_t *lg;
    PyObject *app; /* the app of every record, or NULL: the logger's name */
    int block;     /* overflow="block": the write may wait (without the GIL) */
    int flush_timeout_ms;
    int busy; /* emits between releasing and taking back the GIL (block) */
    unsigned long long n_queued, n_refused;
    /* n_queued when a flush last ran out of time (else ~0): a close right
     * after it, with nothing logged since, does not wait again (the
     * flush() then close() of logging.shutdown()) */
    unsigned long long timed_out_at;
} Handler;

/* Set by set_record_keys() from __init__.py. */
static PyObject *g_std_keys;    /* a LogRecord's own attributes (frozenset) */
static Py_ssize_t g_std_count;  /* how many a fresh LogRecord has */
static PyObject *g_get_message; /* LogRecord.getMessage, as defined by logging */
static PyObject *g_default_fmt; /* logging._defaultFormatter */
static PyObject *g_logrecord_type;

/* interned attribute names */
static PyObject *s_msg, *s_args, *s_levelno, *s_created, *s_name, *s_threadName, *s_exc_info,
    *s_exc_text, *s_stack_info, *s_formatter, *s_filters, *s_filter, *s_format, *s_getMessage,
    *s_formatException, *s_handleError, *s_dict;

/* ---- the record's fields ------------------------------------------------ */

typedef struct {
    logship_field_t *f;
    size_t n, cap;
    PyObject **keep; /* references held until the write is done */
    size_t nkeep, keepcap;
    logship_field_t f_stack[FIELDS_STACK];
    PyObject *keep_stack[2 * FIELDS_STACK];
} fields_t;

static void fields_init(fields_t *fs)
{
    fs->f = fs->f_stack;
    fs->n = 0;
    fs->cap = FIELDS_STACK;
    fs->keep = fs->keep_stack;
    fs->nkeep = 0;
    fs->keepcap = 2 * FIELDS_STACK;
}

static void fields_free(fields_t *fs)
{
    for (size_t i = 0; i < fs->nkeep; i++)
        Py_DECREF(fs->keep[i]);
    if (fs->f != fs->f_stack)
        PyMem_Free(fs->f);
    if (fs->keep != fs->keep_stack)
        PyMem_Free(fs->keep);
}

/* Holds a new reference until fields_free(). -1 when out of memory. */
static int keep(fields_t *fs, PyObject *o)
{
    if (fs->nkeep == fs->keepcap) {
        size_t cap = fs->keepcap * 2;
        PyObject **k = PyMem_Malloc(cap * sizeof *k);
        if (!k) {
            Py_DECREF(o);
            PyErr_NoMemory();
            return -1;
        }
        memcpy(k, fs->keep, fs->nkeep * sizeof *k);
        if (fs->keep != fs->keep_stack)
            PyMem_Free(fs->keep);
        fs->keep = k;
        fs->keepcap = cap;
    }
    fs->keep[fs->nkeep++] = o;
    return 0;
}

/* The UTF-8 of str s (kept alive by fs), at most FIELD_MAX characters;
 * characters UTF-8 can not carry (lone surrogates) are replaced. NULL with
 * an exception set on failure. */
static const char *utf8_of(fields_t *fs, PyObject *s, Py_ssize_t *len)
{
    Py_INCREF(s);
    if (PyUnicode_GET_LENGTH(s) > FIELD_MAX) {
        PyObject *cut = PyUnicode_Substring(s, 0, FIELD_MAX);
        Py_DECREF(s);
        if (!cut)
            return NULL;
        s = cut;
    }
    if (keep(fs, s))
        return NULL;
    const char *u = PyUnicode_AsUTF8AndSize(s, len);
    if (u)
        return u;
    PyErr_Clear();
    PyObject *b = PyUnicode_AsEncodedString(s, "utf-8", "replace");
    if (!b || keep(fs, b))
        return NULL;
    *len = PyBytes_GET_SIZE(b);
    return PyBytes_AS_STRING(b);
}

/* str(v)'s UTF-8, kept alive by fs. */
static const char *text_of(fields_t *fs, PyObject *v, Py_ssize_t *len)
{
    if (PyUnicode_Check(v))
        return utf8_of(fs, v, len);
    PyObject *s = PyObject_Str(v);
    if (!s || keep(fs, s))
        return NULL;
    return utf8_of(fs, s, len);
}

/* Adds key = str(value). 0, or -1 with an exception set. */
static int field_add(fields_t *fs, const char *key, PyObject *value)
{
    Py_ssize_t n;
    const char *v = text_of(fs, value, &n);
    if (!v)
        return -1;
    if (fs->n == fs->cap) {
        size_t cap = fs->cap * 2;
        logship_field_t *f = PyMem_Malloc(cap * sizeof *f);
        if (!f) {
            PyErr_NoMemory();
            return -1;
        }
        memcpy(f, fs->f, fs->n * sizeof *f);
        if (fs->f != fs->f_stack)
            PyMem_Free(fs->f);
        fs->f = f;
        fs->cap = cap;
    }
    fs->f[fs->n].key = key;
    fs->f[fs->n].value = v;
    fs->n++;
    return 0;
}

/* ---- emit ------------------------------------------------------------- */

/* Python's levels on syslog severities: CRITICAL crit, ERROR error,
 * WARNING warning, INFO info, DEBUG (and anything lower) debug. */
static int severity(long levelno)
{
    if (levelno >= 50)
        return LOGSHIP_CRIT;
    if (levelno >= 40)
        return LOGSHIP_ERROR;
    if (levelno >= 30)
        return LOGSHIP_WARNING;
    if (levelno >= 20)
        return LOGSHIP_INFO;
    return LOGSHIP_DEBUG;
}

/* The message: self.format(record) when the handler has a formatter, else
 * record.getMessage() (computed here when it is logging's own). */
static PyObject *message(Handler *self, PyObject *record)
{
    PyObject *fmt = PyObject_GetAttr((PyObject *)self, s_formatter);
    if (!fmt)
        return NULL;
    if (fmt != Py_None) {
        Py_DECREF(fmt);
        return PyObject_CallMethodOneArg((PyObject *)self, s_format, record);
    }
    Py_DECREF(fmt);
    PyObject *gm = PyObject_GetAttr((PyObject *)Py_TYPE(record), s_getMessage);
    if (!gm)
        return NULL;
    int own = gm == g_get_message;
    Py_DECREF(gm);
    if (!own)
        return PyObject_CallMethodNoArgs(record, s_getMessage);
    /* LogRecord.getMessage(): str(msg), then % args when there are any */
    PyObject *msg = PyObject_GetAttr(record, s_msg);
    if (!msg)
        return NULL;
    PyObject *m = PyObject_Str(msg);
    Py_DECREF(msg);
    if (!m)
        return NULL;
    PyObject *args = PyObject_GetAttr(record, s_args);
    if (!args) {
        Py_DECREF(m);
        return NULL;
    }
    int has = PyObject_IsTrue(args);
    PyObject *out = m;
    if (has > 0) {
        out = PyUnicode_Format(m, args);
        Py_DECREF(m);
    } else if (has < 0) {
        Py_DECREF(m);
        out = NULL;
    }
    Py_DECREF(args);
    return out;
}

/* exc_info's traceback text: record.exc_text when a formatter made it,
 * else made with the handler's formatter (or logging's default) and kept
 * in record.exc_text, as Formatter.format() does. */
static PyObject *exception_text(Handler *self, PyObject *record, PyObject *exc_info)
{
    PyObject *t = PyObject_GetAttr(record, s_exc_text);
    if (!t)
        return NULL;
    if (t != Py_None && PyObject_IsTrue(t) == 1)
        return t;
    Py_DECREF(t);
    PyObject *fmt = PyObject_GetAttr((PyObject *)self, s_formatter);
    if (!fmt)
        return NULL;
    if (fmt == Py_None) {
        Py_DECREF(fmt);
        fmt = Py_NewRef(g_default_fmt);
    }
    t = PyObject_CallMethodOneArg(fmt, s_formatException, exc_info);
    Py_DECREF(fmt);
    if (t && PyObject_SetAttr(record, s_exc_text, t) < 0)
        PyErr_Clear();
    return t;
}

/* The record's fields: thread, exc_info, stack_info, the extra= keys. */
static int record_fields(Handler *self, PyObject *record, fields_t *fs)
{
    PyObject *v = PyObject_GetAttr(record, s_threadName);
    if (!v || keep(fs, v))
        return -1;
    if (v != Py_None && field_add(fs, "thread", v))
        return -1;
    v = PyObject_GetAttr(record, s_exc_info);
    if (!v || keep(fs, v))
        return -1;
    if (v != Py_None && PyObject_IsTrue(v) == 1 &&
        !(PyTuple_Check(v) && PyTuple_GET_SIZE(v) > 0 && PyTuple_GET_ITEM(v, 0) == Py_None)) {
        PyObject *t = exception_text(self, record, v);
        if (!t || keep(fs, t) || field_add(fs, "exc_info", t))
            return -1;
    }
    v = PyObject_GetAttr(record, s_stack_info);
    if (!v || keep(fs, v))
        return -1;
    if (v != Py_None && PyObject_IsTrue(v) == 1 && field_add(fs, "stack_info", v))
        return -1;
    /* extra= keys: whatever the record has besides a LogRecord's own */
    PyObject *d = PyObject_GetAttr(record, s_dict);
    if (!d || keep(fs, d))
        return -1;
    if (!PyDict_Check(d) || PyDict_GET_SIZE(d) == g_std_count)
        return 0;
    Py_ssize_t pos = 0;
    PyObject *k, *val;
    while (PyDict_Next(d, &pos, &k, &val)) {
        if (!PyUnicode_Check(k))
            continue;
        int std = PySet_Contains(g_std_keys, k);
        if (std < 0)
            return -1;
        if (std)
            continue;
        Py_ssize_t kn;
        const char *key = utf8_of(fs, k, &kn);
        if (!key || field_add(fs, key, val))
            return -1;
    }
    return 0;
}

/* 0, or -1 with an exception set (then handleError runs). */
static int emit_record(Handler *self, PyObject *record)
{
    fields_t fs;
    fields_init(&fs);
    int rc = -1;
    logship_record_t r;
    memset(&r, 0, sizeof r);

    PyObject *m = message(self, record);
    if (!m || keep(&fs, m))
        goto out;
    Py_ssize_t mlen;
    r.msg = utf8_of(&fs, m, &mlen);
    if (!r.msg)
        goto out;
    /* the message is not cut to FIELD_MAX: liblogship cuts it (max_msg_bytes) */
    if (PyUnicode_GET_LENGTH(m) > FIELD_MAX) {
        const char *u = PyUnicode_AsUTF8AndSize(m, &mlen);
        if (u)
            r.msg = u;
        else
            PyErr_Clear();
    }
    r.msg_len = (size_t)mlen;

    PyObject *lv = PyObject_GetAttr(record, s_levelno);
    if (!lv || keep(&fs, lv))
        goto out;
    long levelno = PyLong_AsLong(lv);
    if (levelno == -1 && PyErr_Occurred())
        goto out;
    r.level = severity(levelno);

    PyObject *cr = PyObject_GetAttr(record, s_created);
    if (!cr || keep(&fs, cr))
        goto out;
    double created = PyFloat_AsDouble(cr);
    if (created == -1.0 && PyErr_Occurred())
        goto out;
    double sec = floor(created);
    r.ts_ns = (int64_t)sec * 1000000000 + (int64_t)llround((created - sec) * 1e9);

    Py_ssize_t alen;
    PyObject *app = self->app;
    if (!app) {
        app = PyObject_GetAttr(record, s_name);
        if (!app || keep(&fs, app))
            goto out;
    }
    if (PyUnicode_Check(app) && !(r.app = utf8_of(&fs, app, &alen)))
        goto out;

    if (record_fields(self, record, &fs))
        goto out;
    r.fields = fs.f;
    r.nfields = fs.n;

    int err;
    if (self->block) {
        logship_t *lg = self->lg;
        self->busy++;
        PyThreadState *ts = PyEval_SaveThread();
        err = logship_write(lg, &r);
        PyEval_RestoreThread(ts);
        self->busy--;
    } else {
        err = logship_write(self->lg, &r);
    }
    if (err == LOGSHIP_EINVAL && r.nfields) {
        /* too big for one record with its fields (liblogship keeps a
         * record below a quarter of its queue): the message alone */
        r.nfields = 0;
        err = logship_write(self->lg, &r);
    }
    if (err == 0)
        self->n_queued++;
    else
        self->n_refused++; /* dropped: liblogship counts why */
    rc = 0;
out:
    fields_free(&fs);
    return rc;
}

/* Hands the exception being raised to self.handleError(record), which
 * prints it (logging.raiseExceptions) and never raises. */
static void handle_error(Handler *self, PyObject *record)
{
    PyObject *t, *v, *tb, *ot, *ov, *otb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (tb && v)
        PyException_SetTraceback(v, tb);
    PyErr_GetExcInfo(&ot, &ov, &otb);
    PyErr_SetExcInfo(t, v, tb); /* sys.exc_info() is what handleError reads */
    PyObject *r = PyObject_CallMethodOneArg((PyObject *)self, s_handleError, record);
    if (!r)
        PyErr_Clear();
    Py_XDECREF(r);
    PyErr_SetExcInfo(ot, ov, otb);
}

static PyObject *Handler_emit(Handler *self, PyObject *record)
{
    if (!self->lg) {
        self->n_refused++; /* closed */
        Py_RETURN_NONE;
    }
    if (emit_record(self, record))
        handle_error(self, record);
    Py_RETURN_NONE;
}

/* logging.Handler.handle() without the handler's lock. */
static PyObject *Handler_handle(Handler *self, PyObject *record)
{
    PyObject *filters = PyObject_GetAttr((PyObject *)self, s_filters);
    if (!filters)
        return NULL;
    int any = PyObject_IsTrue(filters);
    Py_DECREF(filters);
    if (any < 0)
        return NULL;
    PyObject *rv = Py_NewRef(Py_True);
    if (any) {
        Py_DECREF(rv);
        rv = PyObject_CallMethodOneArg((PyObject *)self, s_filter, record);
        if (!rv)
            return NULL;
        int pass = PyObject_IsTrue(rv);
        if (pass <= 0) {
            if (pass < 0) {
                Py_DECREF(rv);
                return NULL;
            }
            return rv;
        }
        /* 3.12: a filter may return the record to log instead */
        if (PyObject_TypeCheck(rv, (PyTypeObject *)g_logrecord_type))
            record = rv;
    }
    PyObject *e = Handler_emit(self, record);
    Py_XDECREF(e);
    return rv;
}

/* ---- open, flush, close, stats ---------------------------------------- */

static PyObject *Handler_open(Handler *self, PyObject *args, PyObject *kw)
{
    static char *names[] = {"url",
                            "app",
                            "topic",
                            "host",
                            "spool_dir",
                            "queue_bytes",
                            "overflow",
                            "block_timeout_ms",
                            "flush_timeout_ms",
                            "min_level",
                            "spool_bytes",
                            "tls_ca_file",
                            "tls_cert_file",
                            "tls_key_file",
                            NULL};
    const char *url, *app = NULL, *topic = NULL, *host = NULL, *spool = NULL;
    const char *ca = NULL, *cert = NULL, *key = NULL;
    Py_ssize_t queue_bytes = 0, spool_bytes = 0;
    int overflow = LOGSHIP_DROP_OLDEST, block_ms = 0, flush_ms = 5000, min_level = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|zzzzniiiinzzz", names, &url, &app, &topic, &host,
                                     &spool, &queue_bytes, &overflow, &block_ms, &flush_ms,
                                     &min_level, &spool_bytes, &ca, &cert, &key))
        return NULL;
    if (self->lg) {
        PyErr_SetString(PyExc_RuntimeError, "the handler is already open");
        return NULL;
    }
    logship_opts_t o;
    logship_opts_init(&o);
    o.topic = topic;
    o.host = host;
    o.spool_dir = spool;
    o.tls_ca_file = ca;
    o.tls_cert_file = cert;
    o.tls_key_file = key;
    if (queue_bytes > 0)
        o.queue_bytes = (size_t)queue_bytes;
    if (spool_bytes > 0)
        o.spool_bytes = (size_t)spool_bytes;
    o.overflow = (logship_overflow_t)overflow;
    if (block_ms > 0)
        o.block_timeout_ms = block_ms;
    o.min_level = min_level;
    /* the handler waits flush_timeout itself (flush(), _close()); close
     * then only stops the thread */
    o.close_timeout_ms = 1;
    if (app) {
        o.app = app;
        Py_XSETREF(self->app, PyUnicode_FromString(app));
        if (!self->app)
            return NULL;
    }
    logship_t *lg;
    int err;
    PyThreadState *ts = PyEval_SaveThread();
    err = logship_open(url, &o, &lg);
    PyEval_RestoreThread(ts);
    if (err) {
        /* a TLS file that can not be used is the caller's file: OSError */
        PyErr_Format(err == LOGSHIP_EINVAL ? PyExc_ValueError : PyExc_OSError,
                     "logship: cannot open a logger for %s: %s", url, logship_strerror(err));
        return NULL;
    }
    self->lg = lg;
    self->timed_out_at = ~0ULL;
    self->block = overflow == LOGSHIP_BLOCK;
    self->flush_timeout_ms = flush_ms;
    Py_RETURN_NONE;
}

static int flush_ms(Handler *self, PyObject *args)
{
    double t = -2;
    if (!PyArg_ParseTuple(args, "|d", &t))
        return -2;
    if (t == -2)
        return self->flush_timeout_ms;
    return t < 0 ? -1 : (int)(t * 1000);
}

/* flush([timeout]): waits, without the GIL, until what was queued is
 * stored (or timeout seconds, default flush_timeout). True when it was. */
static PyObject *Handler_flush(Handler *self, PyObject *args)
{
    int ms = flush_ms(self, args);
    if (ms == -2)
        return NULL;
    if (!self->lg)
        Py_RETURN_TRUE;
    int err;
    logship_t *lg = self->lg;
    self->busy++;
    PyThreadState *ts = PyEval_SaveThread();
    err = logship_flush(lg, ms);
    PyEval_RestoreThread(ts);
    self->busy--;
    self->timed_out_at = err ? self->n_queued : ~0ULL;
    return PyBool_FromLong(err == 0);
}

/* Flushes (up to ms), stops liblogship's thread and frees the logger. */
static int close_logger(Handler *self, int ms)
{
    logship_t *lg = self->lg;
    if (!lg)
        return 0;
    self->lg = NULL; /* emits from now on drop */
    if (self->timed_out_at == self->n_queued)
        ms = 0;
    PyThreadState *ts = PyEval_SaveThread();
    int err = logship_flush(lg, ms);
    PyEval_RestoreThread(ts);
    /* an emit (overflow="block") or a flush that let the GIL go may still
     * be in the library: it comes back by its own timeout */
    while (self->busy > 0) {
        ts = PyEval_SaveThread();
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
        PyEval_RestoreThread(ts);
    }
    ts = PyEval_SaveThread();
    logship_close(lg);
    PyEval_RestoreThread(ts);
    return err;
}

static PyObject *Handler_close_logger(Handler *self, PyObject *args)
{
    int ms = flush_ms(self, args);
    if (ms == -2)
        return NULL;
    if (!self->lg)
        Py_RETURN_NONE;
    return PyBool_FromLong(close_logger(self, ms) == 0);
}

static PyObject *Handler_stats(Handler *self, PyObject *unused)
{
    logship_stats_t st;
    memset(&st, 0, sizeof st);
    if (self->lg)
        logship_stats(self->lg, &st);
    return Py_BuildValue(
        "{s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:O}", "queued", self->n_queued, "sent",
        (unsigned long long)st.acked, "dropped", (unsigned long long)st.dropped, "spooled",
        (unsigned long long)st.spooled_records, "pending",
        (unsigned long long)(self->n_queued > st.acked + st.dropped_oldest + st.spooled_records
                                 ? self->n_queued - st.acked - st.dropped_oldest -
                                       st.spooled_records
                                 : 0),
        "lost", (unsigned long long)st.lost, "connects", (unsigned long long)st.connects,
        "connect_failures", (unsigned long long)st.connect_failures, "nacks",
        (unsigned long long)st.nacks, "resent", (unsigned long long)st.batches_resent, "connected",
        st.connected ? Py_True : Py_False);
}

static PyObject *Handler_after_fork(Handler *self, PyObject *unused)
{
    /* liblogship restarts the logger in the child by itself; the counts
     * start again with it */
    self->n_queued = self->n_refused = 0;
    self->busy = 0;
    Py_RETURN_NONE;
}

static int Handler_traverse(Handler *self, visitproc visit, void *arg)
{
    Py_VISIT(self->app);
    return 0;
}

static int Handler_clear(Handler *self)
{
    Py_CLEAR(self->app);
    return 0;
}

static void Handler_dealloc(Handler *self)
{
    PyObject_GC_UnTrack(self);
    if (self->lg)
        close_logger(self, self->flush_timeout_ms);
    Handler_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Handler_methods[] = {
    {"emit", (PyCFunction)Handler_emit, METH_O,
     "emit(record): hands the record to liblogship; never blocks (unless overflow='block') "
     "and never raises"},
    {"handle", (PyCFunction)Handler_handle, METH_O,
     "handle(record): the filters, then emit(), without the handler's lock"},
    {"_open", (PyCFunction)(void (*)(void))Handler_open, METH_VARARGS | METH_KEYWORDS, NULL},
    {"flush", (PyCFunction)Handler_flush, METH_VARARGS,
     "flush([timeout]): waits until what was queued is stored, up to timeout seconds "
     "(default flush_timeout); returns True when it was"},
    {"_close_logger", (PyCFunction)Handler_close_logger, METH_VARARGS, NULL},
    {"stats", (PyCFunction)Handler_stats, METH_NOARGS,
     "stats(): {'queued', 'sent', 'dropped', 'spooled', 'pending', 'lost', 'connects', "
     "'connect_failures', 'nacks', 'resent', 'connected'}"},
    {"_after_fork", (PyCFunction)Handler_after_fork, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject HandlerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "logship._logship.HandlerBase",
    .tp_basicsize = sizeof(Handler),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The C part of logship.LogshipHandler.",
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)Handler_dealloc,
    .tp_traverse = (traverseproc)Handler_traverse,
    .tp_clear = (inquiry)Handler_clear,
    .tp_methods = Handler_methods,
};

/* set_record_keys(keys, count, getMessage, default_formatter, LogRecord) */
static PyObject *set_record_keys(PyObject *mod, PyObject *args)
{
    PyObject *keys, *gm, *fmt, *type;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "O!nOOO", &PyFrozenSet_Type, &keys, &n, &gm, &fmt, &type))
        return NULL;
    Py_XSETREF(g_std_keys, Py_NewRef(keys));
    Py_XSETREF(g_get_message, Py_NewRef(gm));
    Py_XSETREF(g_default_fmt, Py_NewRef(fmt));
    Py_XSETREF(g_logrecord_type, Py_NewRef(type));
    g_std_count = n;
    Py_RETURN_NONE;
}

static PyObject *level_name(PyObject *mod, PyObject *arg)
{
    long l = PyLong_AsLong(arg);
    if (l == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(logship_level_name(severity(l)));
}

static PyMethodDef module_methods[] = {
    {"set_record_keys", set_record_keys, METH_VARARGS, NULL},
    {"level_name", level_name, METH_O,
     "level_name(levelno): the severity a record of this Python level is stored with"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_logship", "liblogship for logship.LogshipHandler", -1, module_methods,
};

PyMODINIT_FUNC PyInit__logship(void)
{
#define INTERN(v, s)                                                                               \
    if (!(v = PyUnicode_InternFromString(s)))                                                      \
        return NULL;
    INTERN(s_msg, "msg");
    INTERN(s_args, "args");
    INTERN(s_levelno, "levelno");
    INTERN(s_created, "created");
    INTERN(s_name, "name");
    INTERN(s_threadName, "threadName");
    INTERN(s_exc_info, "exc_info");
    INTERN(s_exc_text, "exc_text");
    INTERN(s_stack_info, "stack_info");
    INTERN(s_formatter, "formatter");
    INTERN(s_filters, "filters");
    INTERN(s_filter, "filter");
    INTERN(s_format, "format");
    INTERN(s_getMessage, "getMessage");
    INTERN(s_formatException, "formatException");
    INTERN(s_handleError, "handleError");
    INTERN(s_dict, "__dict__");
#undef INTERN
    if (PyType_Ready(&HandlerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    Py_INCREF(&HandlerType);
    if (PyModule_AddObject(m, "HandlerBase", (PyObject *)&HandlerType) < 0 ||
        PyModule_AddIntConstant(m, "DROP_NEWEST", LOGSHIP_DROP_NEWEST) < 0 ||
        PyModule_AddIntConstant(m, "DROP_OLDEST", LOGSHIP_DROP_OLDEST) < 0 ||
        PyModule_AddIntConstant(m, "BLOCK", LOGSHIP_BLOCK) < 0) {
        Py_DECREF(&HandlerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
