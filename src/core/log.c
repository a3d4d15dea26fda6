#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char log_role[32] = "marketd";
static enum log_level log_min = LOG_INFO;
static const char *log_request_id;
static int log_pid;            /* getpid() once per process, not once per line */

/* Buffered access lines (log_buffer_access): whole lines only, written with one write(2)
 * when the buffer would overflow, when the oldest line is LOG_FLUSH_MS old, before any
 * other line (order is kept), and at exit. */
#define LOG_ACCESS_BUF (32 * 1024)
#define LOG_FLUSH_MS 1000
static bool access_buffered;
static char access_buf[LOG_ACCESS_BUF];
static size_t access_used;
static struct timespec access_oldest;

static void
log_after_fork(void)
{
    log_pid = (int)getpid();
    access_used = 0;   /* the parent's lines are the parent's to write */
}

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
log_init(const char *role, const char *level)
{
    snprintf(log_role, sizeof(log_role), "%s", role);
    if (log_pid == 0) {
        pthread_atfork(NULL, NULL, log_after_fork);
    }
    log_pid = (int)getpid();
    for (int i = 0; i < 4; i++) {
        if (level != NULL && strcmp(level, level_names[i]) == 0) {
            log_min = (enum log_level)i;
        }
    }
}

void
log_set_request_id(const char *request_id)
{
    log_request_id = request_id;
}

size_t
log_json_escape(char *buf, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    if (cap == 0) {
        return 0;
    }
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[7];
        size_t len;
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            len = 2;
        } else if (ch == '\n') {
            memcpy(esc, "\\n", 2);
            len = 2;
        } else if (ch == '\t') {
            memcpy(esc, "\\t", 2);
            len = 2;
        } else if (ch == '\r') {
            memcpy(esc, "\\r", 2);
            len = 2;
        } else if (ch < 0x20 || ch == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            len = 6;
        } else {
            esc[0] = (char)ch;
            len = 1;
        }
        if (n + len >= cap) {
            break;
        }
        memcpy(buf + n, esc, len);
        n += len;
    }
    buf[n] = '\0';
    return n;
}

/* Writes the common prefix {"ts":...,"level":...,"role":...,"pid":...[,"request_id":...] */
static size_t
line_prefix(char *buf, size_t cap, enum log_level level)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(buf, cap,
                     "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\",\"role\":\"%s\",\"pid\":%d",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)(tv.tv_usec / 1000), level_names[level], log_role, log_pid);
    size_t used = n < 0 ? 0 : (size_t)n;
    if (log_request_id != NULL && used + 20 < cap) {
        memcpy(buf + used, ",\"request_id\":\"", 15);
        used += 15;
        used += log_json_escape(buf + used, cap - used - 2, log_request_id);
        buf[used++] = '"';
    }
    return used;
}

static void
write_all(const char *buf, size_t len)
{
    ssize_t w = write(STDERR_FILENO, buf, len);
    (void)w;   /* a log that cannot be written has nowhere to say so */
}

void
log_flush(void)
{
    if (access_used > 0) {
        write_all(access_buf, access_used);
        access_used = 0;
    }
}

static void
flush_at_exit(void)
{
    log_flush();
}

void
log_buffer_access(bool on)
{
    static bool registered;
    if (on && !registered) {
        atexit(flush_at_exit);
        registered = true;
    }
    if (!on) {
        log_flush();
    }
    access_buffered = on;
}

static long
ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);   /* vDSO: no system call */
    return (long)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

int
log_flush_due(void)
{
    if (access_used == 0) {
        return -1;
    }
    long left = LOG_FLUSH_MS - ms_since(&access_oldest);
    if (left <= 0) {
        log_flush();
        return -1;
    }
    return (int)left;
}

/* Closes the line in buf and writes it: at once, or into the access buffer. */
static void
line_emit(char *buf, size_t used, size_t cap, bool access)
{
    if (used + 3 > cap) {
        used = cap - 3;
    }
    buf[used++] = '}';
    buf[used++] = '\n';
    if (!access || !access_buffered) {
        log_flush();   /* earlier access lines first: the file stays in order */
        write_all(buf, used);
        return;
    }
    if (access_used + used > sizeof(access_buf)) {
        log_flush();
    }
    if (access_used == 0) {
        clock_gettime(CLOCK_MONOTONIC, &access_oldest);
    }
    memcpy(access_buf + access_used, buf, used);
    access_used += used;
}

void
log_write(enum log_level level, const char *fmt, ...)
{
    if (level < log_min) {
        return;
    }
    char msg[2048];
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t used = line_prefix(buf, sizeof(buf), level);
    memcpy(buf + used, ",\"msg\":\"", 8);
    used += 8;
    used += log_json_escape(buf + used, sizeof(buf) - used - 4, msg);
    buf[used++] = '"';
    line_emit(buf, used, sizeof(buf), false);
}

void
log_access_line(const struct log_access *a)
{
    char buf[4096];
    char path[1024];
    char method[32];
    char route[256];
    if (log_min > LOG_INFO) {
        return;
    }
    log_json_escape(path, sizeof(path), a->path);
    log_json_escape(method, sizeof(method), a->method);
    log_json_escape(route, sizeof(route), a->route);
    size_t used = line_prefix(buf, sizeof(buf), LOG_INFO);
    int n = snprintf(buf + used, sizeof(buf) - used,
                     ",\"msg\":\"access\",\"method\":\"%s\",\"path\":\"%s\",\"route\":\"%s\","
                     "\"status\":%d,\"latency_ms\":%.3f,\"bytes\":%zu",
                     method, path, route, a->status, a->latency_ms, a->bytes_out);
    if (n > 0) {
        used += (size_t)n < sizeof(buf) - used ? (size_t)n : sizeof(buf) - used - 1;
    }
    line_emit(buf, used, sizeof(buf), true);
}
