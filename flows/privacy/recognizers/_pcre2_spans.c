/* Every non-overlapping match of a regular expression in a Python str, as re.finditer finds them, returned in
 * one call as packed (start, end) pairs of one group: PCRE2 with its JIT compiler, run without the GIL.
 *
 * The str's own storage is the subject, without a copy: PCRE2's 16-bit library reads a str of UCS-2 storage
 * and its 32-bit library one of UCS-4 storage, both in non-UTF mode with Unicode properties (PCRE2_UCP), so
 * a code unit is a code point (a lone surrogate too, as in Python) and offsets are str indexes. A Latin-1 str
 * is widened to UCS-2 first. After an empty match the next search starts at the same place and may not match
 * empty there (PCRE2_NOTEMPTY_ATSTART), which is how re.finditer moves on.
 *
 * Pattern.spans lets PCRE2 search, and PCRE2 skips ahead only over code units below 256 that cannot start a
 * match. A PatternSet instead goes over the text once for all its patterns, each given as the characters its
 * matches start with, the characters their second one is, and those they never follow (a leading negative
 * look-behind), and tries each pattern, compiled as anchored, only where these allow a match: one pass for
 * several patterns, and no try inside a run of digits for a pattern that cannot start there. A pattern may also
 * give the characters its matches consume (`inner`), those one of which every match consumes (`required`) and
 * the fewest characters a match consumes (`min_width`): it is then not tried where the run of `inner`
 * characters from the start is too short or ends before a `required` one (looked at for up to RUN_LIMIT
 * characters; a run that goes on longer is tried), e.g. an 18-digit pattern at a run of 6 digits.
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
#define BITMAP_BYTES (CODE_POINTS / 8)
#define BMP 0x10000
#define MAX_SET 32
#define RUN_LIMIT 64
#define NO_MATCH (-1)

typedef struct {
    PyObject_HEAD
    /* [0]: searches, [1]: anchored at the given offset; the 16-bit ones NULL where the pattern needs code
     * points beyond the BMP */
    pcre2_code_16 *code16[2];
    pcre2_code_32 *code32[2];
    int jit16[2], jit32[2]; /* whether the JIT compiled it: then pcre2_jit_match, which skips the checks */
    uint32_t group;
    uint8_t *first;     /* bitmap of the code points a match starts with (bit c & 7 of byte c >> 3), or NULL */
    uint8_t *not_after; /* bitmap of the code points a match never follows, or NULL: none */
    uint8_t *second;    /* bitmap of the code points a match's second character is, or NULL: any or none */
    /* inner and required are bitmaps of the BMP; every code point beyond counts as held by both (supersets of
     * both sets are as good: a run is then only judged less often) */
    uint8_t *inner;     /* bitmap of the code points a match consumes, or NULL: any */
    uint8_t *required;  /* bitmap of code points one of which every match consumes, or NULL: no such rule */
    Py_ssize_t min_width; /* the fewest code points a match consumes */
} PatternObject;

typedef struct {
    PyObject_HEAD
    PyObject *patterns; /* tuple of PatternObject, each with `first` */
    uint32_t *first;    /* BMP code point -> bit i when pattern i can start with it */
    uint32_t *not_after;
    uint32_t *second;
    uint32_t any_second; /* the patterns without `second`: one character or none can be a match */
    uint32_t *inner;     /* BMP code point -> bit i when pattern i's matches can consume it */
    uint32_t *required;  /* BMP code point -> bit i when it is one of pattern i's required characters */
    uint32_t runs;       /* the patterns whose run of inner characters is looked at */
    uint32_t no_required; /* the patterns without required characters */
    uint32_t reached[RUN_LIMIT + 1]; /* k -> bit i when pattern i's matches can be k characters long */
} PatternSetObject;

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

static inline uint32_t bit(const uint8_t *set, uint32_t c) {
    return set != NULL && c < CODE_POINTS ? (set[c >> 3] >> (c & 7)) & 1 : 0;
}

enum { FIRST, NOT_AFTER, SECOND, INNER, REQUIRED };

/* The patterns of a set whose matches can start with c (FIRST), never follow it (NOT_AFTER), or can have it
 * second (SECOND: all patterns without `second`), as bits. */
static uint32_t set_bits(PyObject *patterns, uint32_t c, int which) {
    uint32_t bits = 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(patterns); i++) {
        PatternObject *p = (PatternObject *)PyTuple_GET_ITEM(patterns, i);
        uint32_t in = which == FIRST       ? bit(p->first, c)
                      : which == NOT_AFTER ? bit(p->not_after, c)
                      : which == SECOND    ? p->second == NULL || bit(p->second, c)
                      : which == INNER     ? p->inner == NULL || c >= BMP || bit(p->inner, c)
                                           : p->required != NULL && (c >= BMP || bit(p->required, c));
        bits |= in << i;
    }
    return bits;
}

#define DEFINE_WIDTH(W)                                                                                        \
    typedef int (*match_##W##_fn)(const pcre2_code_##W *, PCRE2_SPTR##W, PCRE2_SIZE, PCRE2_SIZE, uint32_t,       \
                                  pcre2_match_data_##W *, pcre2_match_context_##W *);                          \
    /* One pattern's matching state: match data, a match context, and a JIT stack once one is needed. */       \
    typedef struct {                                                                                           \
        pcre2_code_##W *code;                                                                                  \
        match_##W##_fn match;                                                                                  \
        pcre2_match_data_##W *data;                                                                            \
        pcre2_match_context_##W *context;                                                                      \
        pcre2_jit_stack_##W *stack;                                                                            \
    } Matcher##W;                                                                                              \
                                                                                                               \
    static int matcher_open_##W(Matcher##W *m, PatternObject *p, int anchored) {                               \
        m->code = p->code##W[anchored];                                                                        \
        m->match = p->jit##W[anchored] ? pcre2_jit_match_##W : pcre2_match_##W;                                \
        m->data = pcre2_match_data_create_from_pattern_##W(m->code, NULL);                                     \
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
    static int attempt_##W(Matcher##W *m, PCRE2_SPTR##W subject, PCRE2_SIZE length, PCRE2_SIZE offset,         \
                           uint32_t options) {                                                                 \
        int rc = m->match(m->code, subject, length, offset, options, m->data, m->context);                     \
        if (rc != PCRE2_ERROR_JIT_STACKLIMIT || m->stack != NULL) return rc;                                   \
        m->stack = pcre2_jit_stack_create_##W(JIT_STACK_START, JIT_STACK_MAX, NULL);                           \
        if (m->stack == NULL) return PCRE2_ERROR_NOMEMORY;                                                     \
        pcre2_jit_stack_assign_##W(m->context, NULL, m->stack);                                                \
        return m->match(m->code, subject, length, offset, options, m->data, m->context);                       \
    }                                                                                                          \
                                                                                                               \
    /* After a successful attempt: the group's span (an unset group is PCRE2_UNSET, -1 as a signed offset, as  \
     * re reports it) added to out; returns where the match ends, or (PCRE2_SIZE)-1 when out of memory. */     \
    static PCRE2_SIZE record_##W(Matcher##W *m, uint32_t group, Offsets *out, int *empty) {                    \
        PCRE2_SIZE *ovector = pcre2_get_ovector_pointer_##W(m->data);                                          \
        if (offsets_add(out, (int64_t)ovector[2 * group]) < 0 || offsets_add(out, (int64_t)ovector[2 * group + 1]) < 0) \
            return (PCRE2_SIZE)-1;                                                                             \
        *empty = ovector[1] == ovector[0];                                                                     \
        return ovector[1];                                                                                     \
    }                                                                                                          \
                                                                                                               \
    /* All matches, PCRE2 searching; returns 0 or a PCRE2 error code (< 0). */                                 \
    static int search_##W(PatternObject *p, PCRE2_SPTR##W subject, PCRE2_SIZE length, Offsets *out) {           \
        Matcher##W m;                                                                                          \
        int rc = matcher_open_##W(&m, p, 0), empty = 0;                                                        \
        PCRE2_SIZE offset = 0;                                                                                 \
        while (rc == 0 && offset <= length) {                                                                  \
            rc = attempt_##W(&m, subject, length, offset, empty ? PCRE2_NOTEMPTY_ATSTART : 0);                 \
            if (rc == PCRE2_ERROR_NOMATCH) {                                                                   \
                rc = 0;                                                                                        \
                break;                                                                                         \
            }                                                                                                  \
            if (rc < 0) break;                                                                                 \
            /* after an empty match: searched again from there, but not empty there */                         \
            offset = record_##W(&m, p->group, out, &empty);                                                    \
            rc = offset == (PCRE2_SIZE)-1 ? PCRE2_ERROR_NOMEMORY : 0;                                          \
        }                                                                                                      \
        matcher_close_##W(&m);                                                                                 \
        return rc;                                                                                             \
    }                                                                                                          \
                                                                                                               \
    /* All matches, the anchored pattern tried at each candidate offset (ascending) at or after the last     \
     * match's end: what searching finds when no match can start elsewhere. */                                 \
    static int at_candidates_##W(PatternObject *p, PCRE2_SPTR##W subject, PCRE2_SIZE length,                   \
                                 const Offsets *candidates, Offsets *out) {                                    \
        Matcher##W m;                                                                                          \
        int rc = matcher_open_##W(&m, p, 1), empty = 0;                                                        \
        PCRE2_SIZE next = 0;                                                                                   \
        for (size_t i = 0; rc == 0 && i < candidates->count; i++) {                                            \
            PCRE2_SIZE offset = (PCRE2_SIZE)candidates->values[i];                                             \
            if (offset < next) continue;                                                                       \
            rc = attempt_##W(&m, subject, length, offset, 0);                                                  \
            if (rc == PCRE2_ERROR_NOMATCH) {                                                                   \
                rc = 0;                                                                                        \
                continue;                                                                                      \
            }                                                                                                  \
            if (rc < 0) break;                                                                                 \
            next = record_##W(&m, p->group, out, &empty);                                                      \
            rc = next == (PCRE2_SIZE)-1 ? PCRE2_ERROR_NOMEMORY : 0;                                            \
            if (rc < 0 || !empty) continue;                                                                    \
            /* an empty match: a longer one may start there too, else the next starts after it */              \
            rc = attempt_##W(&m, subject, length, offset, PCRE2_NOTEMPTY_ATSTART);                             \
            next = offset + 1;                                                                                 \
            if (rc == PCRE2_ERROR_NOMATCH) {                                                                   \
                rc = 0;                                                                                        \
                continue;                                                                                      \
            }                                                                                                  \
            if (rc < 0) break;                                                                                 \
            next = record_##W(&m, p->group, out, &empty);                                                      \
            rc = next == (PCRE2_SIZE)-1 ? PCRE2_ERROR_NOMEMORY : 0;                                            \
        }                                                                                                      \
        matcher_close_##W(&m);                                                                                 \
        return rc;                                                                                             \
    }                                                                                                          \
                                                                                                               \
    /* Of the patterns `pending` (with runs), those whose run of inner characters from offset can hold a match: \
     * at least min_width long and with a required character. A run still going at RUN_LIMIT is not judged. */  \
    static uint32_t runs_##W(PatternSetObject *set, PCRE2_SPTR##W subject, PCRE2_SIZE length, PCRE2_SIZE offset, \
                             uint32_t pending) {                                                               \
        uint32_t accepted = 0, seen = pending & set->no_required;                                              \
        PCRE2_SIZE end = length - offset > RUN_LIMIT ? offset + RUN_LIMIT : length;                            \
        for (PCRE2_SIZE at = offset; pending && at < end; at++) {                                              \
            uint32_t c = subject[at];                                                                          \
            pending &= c < BMP ? set->inner[c] : set_bits(set->patterns, c, INNER);                            \
            seen |= (c < BMP ? set->required[c] : set_bits(set->patterns, c, REQUIRED)) & pending;             \
            uint32_t done = pending & seen & set->reached[at - offset + 1];                                    \
            accepted |= done;                                                                                  \
            pending &= ~done;                                                                                  \
        }                                                                                                      \
        return accepted | (end < length ? pending : 0); /* at the text's end a run is over */                 \
    }                                                                                                          \
                                                                                                               \
    /* One pass over the text: for each pattern of the set, the offsets where it can start. */                 \
    static int candidates_##W(PatternSetObject *set, PCRE2_SPTR##W subject, PCRE2_SIZE length, Offsets *each) { \
        uint32_t after = 0; /* the patterns the previous character rules out */                                \
        for (PCRE2_SIZE offset = 0; offset < length; offset++) {                                               \
            uint32_t c = subject[offset], can, rules_out;                                                      \
            if (c < BMP) {                                                                                     \
                can = set->first[c] & ~after;                                                                  \
                rules_out = set->not_after[c];                                                                 \
            } else {                                                                                           \
                can = set_bits(set->patterns, c, FIRST) & ~after;                                              \
                rules_out = set_bits(set->patterns, c, NOT_AFTER);                                             \
            }                                                                                                  \
            after = rules_out;                                                                                 \
            if (!can) continue;                                                                                \
            if (offset + 1 == length)                                                                          \
                can &= set->any_second;                                                                        \
            else {                                                                                             \
                uint32_t next = subject[offset + 1];                                                           \
                can &= next < BMP ? set->second[next] : set_bits(set->patterns, next, SECOND);                 \
            }                                                                                                  \
            if (can & set->runs) can = (can & ~set->runs) | runs_##W(set, subject, length, offset, can & set->runs); \
            for (; can; can &= can - 1)                                                                        \
                if (offsets_add(&each[__builtin_ctz(can)], (int64_t)offset) < 0) return PCRE2_ERROR_NOMEMORY;   \
        }                                                                                                      \
        return 0;                                                                                              \
    }                                                                                                          \
                                                                                                               \
    static int set_scan_##W(PatternSetObject *set, PCRE2_SPTR##W subject, PCRE2_SIZE length, Offsets *out) {    \
        Py_ssize_t n = PyTuple_GET_SIZE(set->patterns);                                                        \
        Offsets each[MAX_SET] = {{NULL, 0, 0}};                                                                \
        int rc = candidates_##W(set, subject, length, each);                                                   \
        for (Py_ssize_t i = 0; rc == 0 && i < n; i++)                                                          \
            rc = at_candidates_##W((PatternObject *)PyTuple_GET_ITEM(set->patterns, i), subject, length,       \
                                   &each[i], &out[i]);                                                         \
        for (Py_ssize_t i = 0; i < n; i++) PyMem_RawFree(each[i].values);                                     \
        return rc;                                                                                             \
    }                                                                                                          \
                                                                                                               \
    /* The end of the match anchored at each offset (re's pattern.match(text, offset)), or NO_MATCH. */         \
    static int match_at_##W(PatternObject *p, PCRE2_SPTR##W subject, PCRE2_SIZE length, const int64_t *at,     \
                            Py_ssize_t n, int64_t *ends) {                                                     \
        Matcher##W m;                                                                                          \
        int rc = matcher_open_##W(&m, p, 1);                                                                   \
        for (Py_ssize_t i = 0; rc == 0 && i < n; i++) {                                                        \
            /* as re does, an offset before the text is its start, one after it its end */                    \
            PCRE2_SIZE offset = at[i] < 0 ? 0 : (PCRE2_SIZE)at[i] > length ? length : (PCRE2_SIZE)at[i];       \
            ends[i] = NO_MATCH;                                                                                \
            rc = attempt_##W(&m, subject, length, offset, 0);                                                  \
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

/* The subject for a str: its own storage, or a widened copy in *widened (to free); 32-bit when `wide` (a
 * pattern without 16-bit code). Returns the width, 0 on error. */
static int subject_of(PyObject *text, int wide, const void **data, void **widened) {
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
    if (wide) {
        *data = *widened = PyUnicode_AsUCS4Copy(text);
        return *widened == NULL ? 0 : 32;
    }
    if (kind == PyUnicode_2BYTE_KIND) return 16;
    Py_UCS2 *units = PyMem_Malloc((length ? length : 1) * sizeof(Py_UCS2));
    if (units == NULL) {
        PyErr_NoMemory();
        return 0;
    }
    const Py_UCS1 *narrow = *data;
    for (Py_ssize_t i = 0; i < length; i++) units[i] = narrow[i];
    *data = *widened = units;
    return 16;
}

static PyObject *offsets_bytes(const Offsets *out) {
    return PyBytes_FromStringAndSize((const char *)out->values, (Py_ssize_t)(out->count * sizeof(int64_t)));
}

/* Pattern.spans(text) -> bytes: native int64 (start, end) of the group for every match, in order. */
static PyObject *pattern_spans(PatternObject *self, PyObject *text) {
    const void *data;
    void *widened;
    int width = subject_of(text, self->code16[0] == NULL, &data, &widened);
    if (width == 0) return NULL;
    PCRE2_SIZE length = (PCRE2_SIZE)PyUnicode_GET_LENGTH(text);
    Offsets out = {NULL, 0, 0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = width == 16 ? search_16(self, data, length, &out) : search_32(self, data, length, &out);
    Py_END_ALLOW_THREADS
    PyMem_Free(widened);
    PyObject *result = rc == 0 ? offsets_bytes(&out) : match_error(rc);
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
    int width = result == NULL ? 0 : subject_of(text, self->code16[0] == NULL, &data, &widened);
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
    PyMem_Free(self->not_after);
    PyMem_Free(self->second);
    PyMem_Free(self->inner);
    PyMem_Free(self->required);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A copy of a bitmap argument of `bytes` bytes (NULL for None); -1 with an exception set when it is not as long. */
static int bitmap_copy_of(Py_buffer *given, uint8_t **copy, Py_ssize_t bytes) {
    if (given->buf == NULL) return 0;
    if (given->len != bytes) {
        PyErr_Format(PyExc_ValueError, "a character set must be a bitmap of %zd bytes", bytes);
        return -1;
    }
    *copy = PyMem_Malloc(bytes);
    if (*copy == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(*copy, given->buf, bytes);
    return 0;
}

static int bitmap_copy(Py_buffer *given, uint8_t **copy) { return bitmap_copy_of(given, copy, BITMAP_BYTES); }

/* Pattern(pattern, group, first=None, not_after=None, second=None, inner=None, required=None, min_width=0): the
 * pattern compiled for both widths, with the characters its matches start with, those they never follow and
 * those their second character is, for a PatternSet (bitmaps of CODE_POINTS bits; no second: one character or
 * none can be a match), and the characters they consume, one of which they all consume, and their least width
 * (no inner: any; no required: no such rule; these two are bitmaps of the BMP, BMP / 8 bytes, beyond which every
 * code point counts as held by both). ValueError if PCRE2 refuses the pattern. */
static PyObject *pattern_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"pattern", "group", "first", "not_after", "second", "inner", "required", "min_width",
                               NULL};
    const char *ascii;
    Py_ssize_t n, min_width = 0;
    unsigned int group;
    Py_buffer sets[5] = {{NULL}, {NULL}, {NULL}, {NULL}, {NULL}};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s#I|z*z*z*z*z*n", keywords, &ascii, &n, &group, &sets[0],
                                     &sets[1], &sets[2], &sets[3], &sets[4], &min_width))
        return NULL;
    PatternObject *self = NULL;
    int error;
    size_t at = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if ((unsigned char)ascii[i] > 127) {
            PyErr_SetString(PyExc_ValueError, "the pattern must be ASCII (write other characters as \\x{...})");
            goto fail;
        }
    }
    self = (PatternObject *)type->tp_alloc(type, 0);
    if (self == NULL || bitmap_copy(&sets[0], &self->first) < 0 || bitmap_copy(&sets[1], &self->not_after) < 0 ||
        bitmap_copy(&sets[2], &self->second) < 0 || bitmap_copy_of(&sets[3], &self->inner, BMP / 8) < 0 ||
        bitmap_copy_of(&sets[4], &self->required, BMP / 8) < 0)
        goto fail;
    self->min_width = min_width < 0 ? 0 : min_width;
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
    for (int i = 0; i < 5; i++)
        if (sets[i].buf != NULL) PyBuffer_Release(&sets[i]);
    return (PyObject *)self;
fail:
    for (int i = 0; i < 5; i++)
        if (sets[i].buf != NULL) PyBuffer_Release(&sets[i]);
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
    .tp_doc = "Pattern(pattern, group, first=None, not_after=None, second=None): a PCRE2 pattern (ASCII), JIT",
    .tp_methods = pattern_methods,
    .tp_new = pattern_new,
};

/* PatternSet.spans(text) -> tuple of bytes: each pattern's spans, as Pattern.spans would give them. */
static PyObject *set_spans(PatternSetObject *self, PyObject *text) {
    Py_ssize_t n = PyTuple_GET_SIZE(self->patterns);
    int wide = 0;
    for (Py_ssize_t i = 0; i < n; i++) wide |= ((PatternObject *)PyTuple_GET_ITEM(self->patterns, i))->code16[0] == NULL;
    const void *data;
    void *widened;
    int width = subject_of(text, wide, &data, &widened);
    if (width == 0) return NULL;
    PCRE2_SIZE length = (PCRE2_SIZE)PyUnicode_GET_LENGTH(text);
    Offsets out[MAX_SET] = {{NULL, 0, 0}};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = width == 16 ? set_scan_16(self, data, length, out) : set_scan_32(self, data, length, out);
    Py_END_ALLOW_THREADS
    PyMem_Free(widened);
    PyObject *result = rc == 0 ? PyTuple_New(n) : match_error(rc);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *spans = result == NULL ? NULL : offsets_bytes(&out[i]);
        if (result != NULL && spans == NULL) Py_CLEAR(result);
        if (spans != NULL) PyTuple_SET_ITEM(result, i, spans);
        PyMem_RawFree(out[i].values);
    }
    return result;
}

static void set_dealloc(PatternSetObject *self) {
    Py_XDECREF(self->patterns);
    PyMem_Free(self->first); /* the block of all five tables */
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* PatternSet(patterns): up to MAX_SET Patterns, each made with `first`, scanned together. */
static PyObject *set_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"patterns", NULL};
    PyObject *given;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O", keywords, &given)) return NULL;
    PyObject *patterns = PySequence_Tuple(given);
    if (patterns == NULL) return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(patterns);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *p = PyTuple_GET_ITEM(patterns, i);
        if (!PyObject_TypeCheck(p, &PatternType) || ((PatternObject *)p)->first == NULL || n > MAX_SET) {
            PyErr_Format(PyExc_ValueError, "a PatternSet holds up to %d Patterns made with `first`", MAX_SET);
            Py_DECREF(patterns);
            return NULL;
        }
    }
    PatternSetObject *self = (PatternSetObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_DECREF(patterns);
        return NULL;
    }
    self->patterns = patterns;
    self->first = PyMem_Malloc(5 * BMP * sizeof(uint32_t)); /* the five tables in one block */
    if (self->first == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->not_after = self->first + BMP;
    self->second = self->first + 2 * BMP;
    self->inner = self->first + 3 * BMP;
    self->required = self->first + 4 * BMP;
    for (uint32_t c = 0; c < BMP; c++) {
        self->first[c] = set_bits(patterns, c, FIRST);
        self->not_after[c] = set_bits(patterns, c, NOT_AFTER);
        self->second[c] = set_bits(patterns, c, SECOND);
        self->inner[c] = set_bits(patterns, c, INNER);
        self->required[c] = set_bits(patterns, c, REQUIRED);
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PatternObject *p = (PatternObject *)PyTuple_GET_ITEM(patterns, i);
        self->any_second |= (uint32_t)(p->second == NULL) << i;
        self->no_required |= (uint32_t)(p->required == NULL) << i;
        /* a run says something where it can end too soon (the first two characters are already looked at) */
        self->runs |= (uint32_t)(p->min_width > 0 && (p->inner != NULL || p->required != NULL || p->min_width > 2)) << i;
        for (Py_ssize_t k = 0; k <= RUN_LIMIT; k++) self->reached[k] |= (uint32_t)(k >= p->min_width) << i;
    }
    return (PyObject *)self;
}

static PyMethodDef set_methods[] = {
    {"spans", (PyCFunction)set_spans, METH_O,
     "spans(text) -> tuple of bytes: each pattern's native int64 (start, end) pairs, as Pattern.spans"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject PatternSetType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "flows.privacy.recognizers._pcre2_spans.PatternSet",
    .tp_basicsize = sizeof(PatternSetObject),
    .tp_dealloc = (destructor)set_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "PatternSet(patterns): Patterns made with `first`, matched in one pass over a text",
    .tp_methods = set_methods,
    .tp_new = set_new,
};

/* redact(text, start, end, rank, tags, offsets, widths) -> list of str: piece i is text[offsets[i]:offsets[i] +
 * widths[i]] with every span [start[j], end[j]) inside it replaced by tags[rank[j]]. All but tags (a tuple of
 * str) are native int64 arrays as bytes; pieces and spans ordered, apart, each span non-empty and inside a piece (else
 * ValueError). What analyzer.redact_texts does with numpy, one copy of each piece instead of a gather. */
static PyObject *redact(PyObject *module, PyObject *args) {
    PyObject *text, *tags, *result = NULL;
    Py_buffer bufs[5] = {{NULL}, {NULL}, {NULL}, {NULL}, {NULL}};
    char *text_w = NULL, *tags_w = NULL, *piece = NULL;
    Py_ssize_t *tag_at = NULL, *tag_len = NULL;
    if (!PyArg_ParseTuple(args, "Uy*y*y*O!y*y*", &text, &bufs[0], &bufs[1], &bufs[2], &PyTuple_Type, &tags, &bufs[3],
                          &bufs[4]))
        return NULL;
    const int64_t *start = bufs[0].buf, *end = bufs[1].buf, *rank = bufs[2].buf, *offset = bufs[3].buf,
                  *width = bufs[4].buf;
    Py_ssize_t n_spans = bufs[0].len / 8, n_pieces = bufs[3].len / 8, n_tags = PyTuple_GET_SIZE(tags);
    Py_ssize_t length = PyUnicode_GET_LENGTH(text), total_tags = 0, longest = 0;
    if (bufs[1].len / 8 != n_spans || bufs[2].len / 8 != n_spans || bufs[4].len / 8 != n_pieces) {
        PyErr_SetString(PyExc_ValueError, "start, end and rank, and offsets and widths, must be as long");
        goto done;
    }
    int kind = PyUnicode_KIND(text); /* the pieces are written in the widest kind of the text and the tags */
    for (Py_ssize_t t = 0; t < n_tags; t++) {
        PyObject *tag = PyTuple_GET_ITEM(tags, t);
        if (!PyUnicode_Check(tag)) {
            PyErr_SetString(PyExc_TypeError, "tags must be str");
            goto done;
        }
        kind = PyUnicode_KIND(tag) > kind ? PyUnicode_KIND(tag) : kind;
        total_tags += PyUnicode_GET_LENGTH(tag);
    }
    text_w = kind == PyUnicode_KIND(text) ? PyUnicode_DATA(text) : PyMem_Malloc((length ? length : 1) * kind);
    tags_w = PyMem_Malloc((total_tags ? total_tags : 1) * kind);
    tag_at = PyMem_Malloc((n_tags ? n_tags : 1) * sizeof(Py_ssize_t));
    tag_len = PyMem_Malloc((n_tags ? n_tags : 1) * sizeof(Py_ssize_t));
    if (text_w == NULL || tags_w == NULL || tag_at == NULL || tag_len == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (text_w != PyUnicode_DATA(text))
        for (Py_ssize_t i = 0; i < length; i++) PyUnicode_WRITE(kind, text_w, i, PyUnicode_READ_CHAR(text, i));
    for (Py_ssize_t t = 0, at = 0; t < n_tags; t++) {
        PyObject *tag = PyTuple_GET_ITEM(tags, t);
        tag_at[t] = at;
        tag_len[t] = PyUnicode_GET_LENGTH(tag);
        longest = tag_len[t] > longest ? tag_len[t] : longest;
        for (Py_ssize_t i = 0; i < tag_len[t]; i++) PyUnicode_WRITE(kind, tags_w, at++, PyUnicode_READ_CHAR(tag, i));
    }
    /* a piece is at most as long as its text with each character replaced by the longest tag */
    Py_ssize_t room = 0;
    for (Py_ssize_t i = 0; i < n_pieces; i++) {
        if (offset[i] < 0 || width[i] < 0 || offset[i] > length - width[i] || (i && offset[i] < offset[i - 1] + width[i - 1])) {
            PyErr_SetString(PyExc_ValueError, "pieces must be ordered, apart and inside the text");
            goto done;
        }
        room = width[i] * (longest > 1 ? longest : 1) > room ? width[i] * (longest > 1 ? longest : 1) : room;
    }
    piece = PyMem_Malloc((room ? room : 1) * kind);
    result = PyList_New(n_pieces);
    if (piece == NULL || result == NULL) {
        if (piece == NULL) PyErr_NoMemory();
        goto fail;
    }
    Py_ssize_t j = 0;
    for (Py_ssize_t i = 0; i < n_pieces; i++) {
        Py_ssize_t from = (Py_ssize_t)offset[i], stop = from + (Py_ssize_t)width[i], out = 0;
        for (; j < n_spans && start[j] < stop; j++) {
            if (start[j] < from || end[j] > stop || start[j] >= end[j] || (j && start[j] < end[j - 1]) || rank[j] < 0 ||
                rank[j] >= n_tags) {
                PyErr_SetString(PyExc_ValueError, "spans must be ordered, apart, inside a piece, with a tag each");
                goto fail;
            }
            memcpy(piece + out * kind, text_w + from * kind, (size_t)(start[j] - from) * kind);
            out += (Py_ssize_t)start[j] - from;
            memcpy(piece + out * kind, tags_w + tag_at[rank[j]] * kind, (size_t)tag_len[rank[j]] * kind);
            out += tag_len[rank[j]];
            from = (Py_ssize_t)end[j];
        }
        memcpy(piece + out * kind, text_w + from * kind, (size_t)(stop - from) * kind);
        out += stop - from;
        PyObject *made = PyUnicode_FromKindAndData(kind, piece, out); /* the str's own (narrowest) kind */
        if (made == NULL) goto fail;
        PyList_SET_ITEM(result, i, made);
    }
    if (j < n_spans) {
        PyErr_SetString(PyExc_ValueError, "spans must be ordered, apart, inside a piece, with a tag each");
        goto fail;
    }
    goto done;
fail:
    Py_CLEAR(result);
done:
    if (text_w != NULL && text_w != PyUnicode_DATA(text)) PyMem_Free(text_w);
    PyMem_Free(tags_w);
    PyMem_Free(tag_at);
    PyMem_Free(tag_len);
    PyMem_Free(piece);
    for (int i = 0; i < 5; i++)
        if (bufs[i].buf != NULL) PyBuffer_Release(&bufs[i]);
    return result;
}

static PyMethodDef module_methods[] = {
    {"redact", (PyCFunction)redact, METH_VARARGS,
     "redact(text, start, end, rank, tags, offsets, widths) -> list of str: each piece of text, spans replaced by tags"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_pcre2_spans", "All matches of PCRE2 patterns in a str as (start, end) arrays.", -1,
    module_methods,
};

PyMODINIT_FUNC PyInit__pcre2_spans(void) {
    if (PyType_Ready(&PatternType) < 0 || PyType_Ready(&PatternSetType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&PatternType);
    Py_INCREF(&PatternSetType);
    if (PyModule_AddObject(m, "Pattern", (PyObject *)&PatternType) < 0 ||
        PyModule_AddObject(m, "PatternSet", (PyObject *)&PatternSetType) < 0) {
        Py_DECREF(&PatternType);
        Py_DECREF(&PatternSetType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
