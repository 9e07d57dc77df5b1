/* Every non-overlapping match of one regular expression in a Python str, as re.finditer finds them, returned
 * in one call as packed (start, end) pairs of one group: PCRE2 with its JIT compiler, run without the GIL.
 *
 * The str's own storage is the subject, without a copy: PCRE2's 16-bit library reads a str of UCS-2 storage
 * and its 32-bit library one of UCS-4 storage, both in non-UTF mode with Unicode properties (PCRE2_UCP), so
 * a code unit is a code point (a lone surrogate too, as in Python) and offsets are str indexes. A Latin-1 str
 * is widened to UCS-2 first. After an empty match the next search starts at the same place and may not match
 * empty there (PCRE2_NOTEMPTY_ATSTART), which is how re.finditer moves on.
 *
 * PCRE2 skips ahead only over code units below 256 that cannot start a match; in CJK text it would try every
 * position. Given the set of characters a match must start at (a bitmap over code points), the scan skips to
 * the next such character itself and tries the pattern compiled as anchored there.
 *
 * Patterns must be in PCRE2 syntax and ASCII (flows/privacy/recognizers/pcre2_syntax.py writes them).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 0
#include <pcre2.h>

#define JIT_STACK_START (32 * 1024)
#define JIT_STACK_MAX (16 * 1024 * 1024)
#define ERROR_TEXT 256
#define CODE_POINTS 0x110000
#define NO_MATCH (-1)

typedef struct {
    PyObject_HEAD
    /* [0]: searches, [1]: anchored at the given offset; the 16-bit ones NULL where the pattern needs code
     * points beyond the BMP */
    pcre2_code_16 *code16[2];
    pcre2_code_32 *code32[2];
    int jit16[2], jit32[2]; /* whether the JIT compiled it: then pcre2_jit_match, which skips the checks */
    uint32_t group;
    uint8_t *first; /* bitmap of the code points a match can start with, or NULL: any */
} PatternObject;

typedef struct {
    int64_t *values;
    size_t count, capacity;
} Offsets;

static int offsets_add(Offsets *out, int64_t value) {
    if (out->count == out->capacity) {
        size_t capacity = out->capacity ? out->capacity * 2 : 2048;
        int64_t *grown = PyMem_RawRealloc(out->values, capacity * sizeof(int64_t));
        if (grown == NULL) return -1;
        out->values = grown;
        out->capacity = capacity;
    }
    out->values[out->count++] = value;
    return 0;
}

static inline int may_start(const uint8_t *first, uint32_t c) {
    return first == NULL || (c < CODE_POINTS && (first[c >> 3] >> (c & 7)) & 1);
}

/* One width's matching state: match data, a match context, and a JIT stack once one is needed. */
#define DEFINE_WIDTH(W)                                                                                        \
    typedef int (*match_##W##_fn)(const pcre2_code_##W *, PCRE2_SPTR##W, PCRE2_SIZE, PCRE2_SIZE, uint32_t,       \
                                  pcre2_match_data_##W *, pcre2_match_context_##W *);                          \
    typedef struct {                                                                                           \
        pcre2_match_data_##W *data;                                                                            \
        pcre2_match_context_##W *context;                                                                      \
        pcre2_jit_stack_##W *stack;                                                                            \
    } Matcher##W;                                                                                              \
                                                                                                               \
    static int matcher_open_##W(Matcher##W *m, pcre2_code_##W *code) {                                         \
        m->data = pcre2_match_data_create_from_pattern_##W(code, NULL);                                        \
        m->context = pcre2_match_context_create_##W(NULL);                                                     \
        m->stack = NULL;                                                                                       \
        if (m->data == NULL || m->context == NULL) return PCRE2_ERROR_NOMEMORY;                                \
        pcre2_set_match_limit_##W(m->context, UINT32_MAX); /* re has no such limit */                          \
        return 0;                                                                                              \
    }                                                                                                          \
                                                                                                               \
    static void matcher_close_##W(Matcher##W *m) {                                                             \
        pcre2_jit_stack_free_##W(m->stack);                                                                    \
        pcre2_match_context_free_##W(m->context);                                                              \
        pcre2_match_data_free_##W(m->data);                                                                    \
    }                                                                                                          \
                                                                                                               \
    /* One match attempt; the JIT's 32 KB of machine stack first, a JIT stack of up to 16 MB where that fails. */ \
    static int attempt_##W(Matcher##W *m, match_##W##_fn match, pcre2_code_##W *code, PCRE2_SPTR##W subject,      \
                           PCRE2_SIZE length, PCRE2_SIZE offset, uint32_t options) {                           \
        int rc = match(code, subject, length, offset, options, m->data, m->context);                           \
        if (rc != PCRE2_ERROR_JIT_STACKLIMIT || m->stack != NULL) return rc;                                   \
        m->stack = pcre2_jit_stack_create_##W(JIT_STACK_START, JIT_STACK_MAX, NULL);                           \
        if (m->stack == NULL) return PCRE2_ERROR_NOMEMORY;                                                     \
        pcre2_jit_stack_assign_##W(m->context, NULL, m->stack);                                                \
        return match(code, subject, length, offset, options, m->data, m->context);                             \
    }                                                                                                          \
                                                                                                               \
    /* All matches; returns 0 or a PCRE2 error code (< 0). */                                                  \
    static int scan_##W(PatternObject *self, PCRE2_SPTR##W subject, PCRE2_SIZE length, Offsets *out) {          \
        int anchored = self->first != NULL; /* the scan skips ahead itself and tries the anchored pattern */    \
        pcre2_code_##W *code = self->code##W[anchored];                                                        \
        match_##W##_fn match = self->jit##W[anchored] ? pcre2_jit_match_##W : pcre2_match_##W;                 \
        Matcher##W m;                                                                                          \
        int rc = matcher_open_##W(&m, code);                                                                   \
        PCRE2_SIZE offset = 0;                                                                                 \
        uint32_t options = 0;                                                                                  \
        while (rc == 0 && offset <= length) {                                                                  \
            if (self->first != NULL && options == 0) {                                                         \
                while (offset < length && !may_start(self->first, subject[offset])) offset++;                  \
                if (offset == length) break;                                                                   \
            }                                                                                                  \
            rc = attempt_##W(&m, match, code, subject, length, offset, options);                               \
            if (rc == PCRE2_ERROR_NOMATCH) {                                                                   \
                rc = 0;                                                                                        \
                if (self->first == NULL) break;                                                                \
                offset++;                                                                                      \
                options = 0;                                                                                   \
                continue;                                                                                      \
            }                                                                                                  \
            if (rc < 0) break;                                                                                 \
            PCRE2_SIZE *ovector = pcre2_get_ovector_pointer_##W(m.data);                                       \
            /* an unset group is PCRE2_UNSET, -1 as a signed offset, as re reports it */                       \
            if (offsets_add(out, (int64_t)ovector[2 * self->group]) < 0 ||                                     \
                offsets_add(out, (int64_t)ovector[2 * self->group + 1]) < 0) {                                 \
                rc = PCRE2_ERROR_NOMEMORY;                                                                     \
                break;                                                                                         \
            }                                                                                                  \
            /* after an empty match: tried again from there, but not empty there */                            \
            options = ovector[1] == ovector[0] ? PCRE2_NOTEMPTY_ATSTART : 0;                                   \
            offset = ovector[1];                                                                               \
            rc = 0;                                                                                            \
        }                                                                                                      \
        matcher_close_##W(&m);                                                                                 \
        return rc;                                                                                             \
    }                                                                                                          \
                                                                                                               \
    /* The end of the match anchored at each offset (re's pattern.match(text, offset)), or NO_MATCH. */         \
    static int match_at_##W(PatternObject *self, PCRE2_SPTR##W subject, PCRE2_SIZE length, const int64_t *at,  \
                            Py_ssize_t n, int64_t *ends) {                                                     \
        Matcher##W m;                                                                                          \
        int rc = matcher_open_##W(&m, self->code##W[1]);                                                      \
        match_##W##_fn match = self->jit##W[1] ? pcre2_jit_match_##W : pcre2_match_##W;                        \
        for (Py_ssize_t i = 0; rc == 0 && i < n; i++) {                                                        \
            /* as re does, an offset before the text is its start, one after it its end */                    \
            PCRE2_SIZE offset = at[i] < 0 ? 0 : (PCRE2_SIZE)at[i] > length ? length : (PCRE2_SIZE)at[i];       \
            ends[i] = NO_MATCH;                                                                                \
            rc = attempt_##W(&m, match, self->code##W[1], subject, length, offset, 0);                         \
            if (rc >= 0) ends[i] = (int64_t)pcre2_get_ovector_pointer_##W(m.data)[1];                          \
            rc = rc == PCRE2_ERROR_NOMATCH || rc >= 0 ? 0 : rc;                                                \
        }                                                                                                      \
        matcher_close_##W(&m);                                                                                 \
        return rc;                                                                                             \
    }

DEFINE_WIDTH(16)
DEFINE_WIDTH(32)

/* A PCRE2 error code's message as a C string (the messages are ASCII; any width's library gives them). */
static void error_text(int code, char *text) {
    PCRE2_UCHAR32 message[ERROR_TEXT];
    int n = pcre2_get_error_message_32(code, message, ERROR_TEXT);
    for (int i = 0; i < n; i++) text[i] = (char)message[i];
    text[n > 0 ? n : 0] = '\0';
}

static PyObject *match_error(int rc) {
    char text[ERROR_TEXT];
    if (rc == PCRE2_ERROR_NOMEMORY) return PyErr_NoMemory();
    error_text(rc, text);
    PyErr_Format(PyExc_RuntimeError, "PCRE2 matching failed (%d): %s", rc, text);
    return NULL;
}

/* The subject for a str: its own storage, or a widened copy in *widened (to free). Width 0 on error. */
static int subject_of(PatternObject *self, PyObject *text, const void **data, void **widened) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be a str");
        return 0;
    }
    if (PyUnicode_READY(text) < 0) return 0;
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    *data = PyUnicode_DATA(text);
    *widened = NULL;
    if (kind == PyUnicode_4BYTE_KIND) return 32;
    if (self->code16[0] == NULL) {
        *data = *widened = PyUnicode_AsUCS4Copy(text);
        return *widened == NULL ? 0 : 32;
    }
    if (kind == PyUnicode_2BYTE_KIND) return 16;
    Py_UCS2 *wide = PyMem_Malloc((length ? length : 1) * sizeof(Py_UCS2));
    if (wide == NULL) {
        PyErr_NoMemory();
        return 0;
    }
    const Py_UCS1 *narrow = *data;
    for (Py_ssize_t i = 0; i < length; i++) wide[i] = narrow[i];
    *data = *widened = wide;
    return 16;
}

/* Pattern.spans(text) -> bytes: native int64 (start, end) of the group for every match, in order. */
static PyObject *pattern_spans(PatternObject *self, PyObject *text) {
    const void *data;
    void *widened;
    int width = subject_of(self, text, &data, &widened);
    if (width == 0) return NULL;
    PCRE2_SIZE length = (PCRE2_SIZE)PyUnicode_GET_LENGTH(text);
    Offsets out = {NULL, 0, 0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = width == 16 ? scan_16(self, data, length, &out) : scan_32(self, data, length, &out);
    Py_END_ALLOW_THREADS
    PyMem_Free(widened);
    PyObject *result =
        rc == 0 ? PyBytes_FromStringAndSize((const char *)out.values, out.count * sizeof(int64_t)) : match_error(rc);
    PyMem_RawFree(out.values);
    return result;
}

/* Pattern.match_at(text, offsets) -> bytes: for each native int64 offset, the end of the match that starts
 * there (as re's pattern.match(text, offset)), or -1. */
static PyObject *pattern_match_at(PatternObject *self, PyObject *args) {
    PyObject *text;
    Py_buffer at;
    if (!PyArg_ParseTuple(args, "Uy*", &text, &at)) return NULL;
    Py_ssize_t n = at.len / (Py_ssize_t)sizeof(int64_t);
    PyObject *result = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int64_t));
    const void *data;
    void *widened = NULL;
    int width = result == NULL ? 0 : subject_of(self, text, &data, &widened);
    if (width == 0) {
        PyBuffer_Release(&at);
        Py_XDECREF(result);
        return NULL;
    }
    PCRE2_SIZE length = (PCRE2_SIZE)PyUnicode_GET_LENGTH(text);
    int64_t *ends = (int64_t *)PyBytes_AS_STRING(result);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = width == 16 ? match_at_16(self, data, length, at.buf, n, ends) : match_at_32(self, data, length, at.buf, n, ends);
    Py_END_ALLOW_THREADS
    PyMem_Free(widened);
    PyBuffer_Release(&at);
    if (rc != 0) {
        Py_DECREF(result);
        return match_error(rc);
    }
    return result;
}

/* Compile an ASCII pattern for one width, searching and anchored; *error set when PCRE2 refuses it. */
#define DEFINE_COMPILE(W)                                                                                      \
    static int compile_##W(const char *ascii, size_t n, pcre2_code_##W **codes, int *jit, int *error,            \
                           size_t *at) {                                                                       \
        PCRE2_UCHAR##W *units = PyMem_Malloc((n ? n : 1) * sizeof(PCRE2_UCHAR##W));                            \
        *error = 0;                                                                                            \
        if (units == NULL) return -1;                                                                          \
        for (size_t i = 0; i < n; i++) units[i] = (unsigned char)ascii[i];                                     \
        codes[0] = pcre2_compile_##W(units, n, PCRE2_UCP, error, at, NULL);                                     \
        codes[1] = codes[0] ? pcre2_compile_##W(units, n, PCRE2_UCP | PCRE2_ANCHORED, error, at, NULL) : NULL;  \
        PyMem_Free(units);                                                                                     \
        for (int i = 0; i < 2; i++) /* where the JIT fails, PCRE2 interprets the pattern */                    \
            jit[i] = codes[i] != NULL && pcre2_jit_compile_##W(codes[i], PCRE2_JIT_COMPLETE) == 0;             \
        return codes[0] && codes[1] ? 0 : -1;                                                                  \
    }

DEFINE_COMPILE(16)
DEFINE_COMPILE(32)

static void pattern_dealloc(PatternObject *self) {
    for (int i = 0; i < 2; i++) {
        pcre2_code_free_16(self->code16[i]);
        pcre2_code_free_32(self->code32[i]);
    }
    PyMem_Free(self->first);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Pattern(pattern: str, group: int, first: bytes | None): the pattern compiled for both widths; `first`, a
 * bitmap of CODE_POINTS bits (bit c & 7 of byte c >> 3), the characters a match starts with. ValueError if
 * PCRE2 refuses the pattern. */
static PyObject *pattern_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"pattern", "group", "first", NULL};
    const char *ascii;
    Py_ssize_t n;
    unsigned int group;
    Py_buffer first = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s#I|z*", keywords, &ascii, &n, &group, &first)) return NULL;
    PatternObject *self = NULL;
    int error;
    size_t at = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if ((unsigned char)ascii[i] > 127) {
            PyErr_SetString(PyExc_ValueError, "the pattern must be ASCII (write other characters as \\x{...})");
            goto fail;
        }
    }
    if (first.buf != NULL && first.len != CODE_POINTS / 8) {
        PyErr_Format(PyExc_ValueError, "first must hold %d bytes", CODE_POINTS / 8);
        goto fail;
    }
    self = (PatternObject *)type->tp_alloc(type, 0);
    if (self == NULL) goto fail;
    if (compile_32(ascii, (size_t)n, self->code32, self->jit32, &error, &at) < 0) {
        char text[ERROR_TEXT] = "out of memory";
        if (error) error_text(error, text);
        PyErr_Format(PyExc_ValueError, "PCRE2 refuses the pattern at %zu: %s", at, text);
        goto fail;
    }
    if (compile_16(ascii, (size_t)n, self->code16, self->jit16, &error, &at) < 0) { /* a BMP text is then widened */
        for (int i = 0; i < 2; i++) {
            pcre2_code_free_16(self->code16[i]);
            self->code16[i] = NULL;
        }
    }
    uint32_t captures = 0;
    pcre2_pattern_info_32(self->code32[0], PCRE2_INFO_CAPTURECOUNT, &captures);
    if (group > captures) {
        PyErr_Format(PyExc_ValueError, "no group %u: the pattern has %u", group, captures);
        goto fail;
    }
    self->group = group;
    if (first.buf != NULL) {
        self->first = PyMem_Malloc(CODE_POINTS / 8);
        if (self->first == NULL) {
            PyErr_NoMemory();
            goto fail;
        }
        memcpy(self->first, first.buf, CODE_POINTS / 8);
        PyBuffer_Release(&first);
    }
    return (PyObject *)self;
fail:
    if (first.buf != NULL) PyBuffer_Release(&first);
    Py_XDECREF(self);
    return NULL;
}

static PyMethodDef pattern_methods[] = {
    {"spans", (PyCFunction)pattern_spans, METH_O,
     "spans(text) -> bytes: native int64 (start, end) pairs of the group, one per match, as re.finditer"},
    {"match_at", (PyCFunction)pattern_match_at, METH_VARARGS,
     "match_at(text, offsets) -> bytes: native int64 end of the match anchored at each offset, or -1"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject PatternType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "flows.privacy.recognizers._pcre2_spans.Pattern",
    .tp_basicsize = sizeof(PatternObject),
    .tp_dealloc = (destructor)pattern_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Pattern(pattern, group, first=None): a PCRE2 pattern (ASCII, PCRE2 syntax) compiled with JIT",
    .tp_methods = pattern_methods,
    .tp_new = pattern_new,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_pcre2_spans", "All matches of a PCRE2 pattern in a str as (start, end) arrays.", -1,
};

PyMODINIT_FUNC PyInit__pcre2_spans(void) {
    if (PyType_Ready(&PatternType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&PatternType);
    if (PyModule_AddObject(m, "Pattern", (PyObject *)&PatternType) < 0) {
        Py_DECREF(&PatternType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
