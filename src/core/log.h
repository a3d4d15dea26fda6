/*
 * log.h — one JSON object per line on stderr (the pool's log file).
 *
 * Every line carries the time, level, role and pid, and the nginx request id of the
 * request being served (log_set_request_id), so one grep finds everything about a
 * request. Lines are written with a single write(2), so lines of concurrent workers
 * sharing a file never interleave. A FastCGI worker buffers its access lines
 * (log_buffer_access) and writes them many at a time: one write(2) of whole lines when the
 * buffer is full, when the oldest line is a second old (log_flush_due, from the worker's
 * loop), before any other line, and at exit.
 */
#ifndef MK_LOG_H
#define MK_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Set the role name and minimum level ("debug".."error"). Copies role. */
void log_init(const char *role, const char *level);

/* The request id added to every line until the next call; NULL clears it. Not copied:
 * the pointer must stay valid until cleared. */
void log_set_request_id(const char *request_id);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

/* The access-log line written once per request. */
struct log_access {
    const char *method;
    const char *path;
    const char *route;      /* the pattern that matched, or "-" */
    int status;
    uint64_t latency_us;    /* written as latency_ms with three decimals */
    size_t bytes_out;
};
void log_access_line(const struct log_access *a);

/* Buffer access lines (single-threaded callers only: the FastCGI workers). Off flushes. */
void log_buffer_access(bool on);

/* Write the buffered access lines now (also done at exit). */
void log_flush(void);

/* Flush if the oldest buffered line is due; returns the milliseconds until the next flush is
 * due, or -1 when nothing is buffered. */
int log_flush_due(void);

/* Append s to buf as a JSON string body (no quotes), escaping as RFC 8259 requires.
 * Writes at most cap-1 bytes and NUL-terminates; returns the bytes written. */
size_t log_json_escape(char *buf, size_t cap, const char *s);

#endif
