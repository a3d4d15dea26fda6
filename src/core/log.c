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

/* The bytes a JSON string holds as they are: not a control byte (NUL included, which ends
 * the run), DEL, '"' or '\\'. One load a byte instead of four tests (the access line's fields
 * are most of its cost: README, "Tenth pass"). */
static const unsigned char json_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* 0x10 */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0x20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,   /* 0x50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,   /* 0x70 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0x80 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0x90 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0xa0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0xb0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0xc0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0xd0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0xe0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0xf0 */
};

size_t
log_json_escape(char *buf, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    if (cap == 0) {
        return 0;
    }
    for (; s != NULL && *s != '\0'; s++) {
        /* a run of bytes that need no escape, copied at once */
        const char *run = s;
        while (json_plain[(unsigned char)*s]) {
            s++;
        }
        if (s > run) {
            size_t len = (size_t)(s - run);
            if (n + len >= cap) {
                len = cap - 1 - n;
                memcpy(buf + n, run, len);
                n += len;
                break;
            }
            memcpy(buf + n, run, len);
            n += len;
            if (*s == '\0') {
                break;
            }
        }
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

/* Decimal digits of v, right-aligned in width places with leading zeros (width > 0), or as
 * many as it takes (width 0). Returns the count written. */
static size_t
put_dec(char *buf, unsigned long long v, int width)
{
    char num[24], *p = num + sizeof(num);
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 || (width > 0 && num + sizeof(num) - p < width));
    size_t n = (size_t)(num + sizeof(num) - p);
    memcpy(buf, p, n);
    return n;
}

static size_t
put_int(char *buf, long long v)
{
    if (v < 0) {
        buf[0] = '-';
        return 1 + put_dec(buf + 1, 0ULL - (unsigned long long)v, 0);
    }
    return put_dec(buf, (unsigned long long)v, 0);
}

/* The time as "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 bytes): the date and time of day are formatted
 * once per second, not per line (an access line per request). Per thread: the projector's
 * threads (prefetch, media, timers) log too, and a shared cache could be read half-written. */
static size_t
put_timestamp(char *buf)
{
    static _Thread_local time_t cached_sec = (time_t)-1;
    static _Thread_local char cached[19];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    if (tv.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&tv.tv_sec, &tm);
        char *c = cached;
        c += put_dec(c, (unsigned long long)(tm.tm_year + 1900) % 10000, 4);
        *c++ = '-';
        c += put_dec(c, (unsigned long long)tm.tm_mon + 1, 2);
        *c++ = '-';
        c += put_dec(c, (unsigned long long)tm.tm_mday, 2);
        *c++ = 'T';
        c += put_dec(c, (unsigned long long)tm.tm_hour, 2);
        *c++ = ':';
        c += put_dec(c, (unsigned long long)tm.tm_min, 2);
        *c++ = ':';
        put_dec(c, (unsigned long long)tm.tm_sec, 2);
        cached_sec = tv.tv_sec;
    }
    memcpy(buf, cached, sizeof(cached));
    buf[19] = '.';
    put_dec(buf + 20, (unsigned long long)(tv.tv_usec / 1000), 3);
    buf[23] = 'Z';
    return 24;
}

/* Append n bytes of s at buf + *used, as many as fit in cap. */
static void
put(char *buf, size_t *used, size_t cap, const char *s, size_t n)
{
    if (n > cap - *used) {
        n = cap - *used;
    }
    memcpy(buf + *used, s, n);
    *used += n;
}

#define PUT_LIT(buf, used, lit) put((buf), &(used), sizeof(buf), (lit), sizeof(lit) - 1)

/* A number in decimal, as put() appends. */
static void
put_number(char *buf, size_t *used, size_t cap, long long v)
{
    char num[24];
    put(buf, used, cap, num, put_int(num, v));
}

/* Writes the common prefix {"ts":...,"level":...,"role":...,"pid":...[,"request_id":...]
 * (cap >= 256: the callers' buffers). Copies, not the formatter: it starts every access line. */
static size_t
line_prefix(char *buf, size_t cap, enum log_level level)
{
    static const char ts[] = "{\"ts\":\"", level_key[] = "\",\"level\":\"", role_key[] = "\",\"role\":\"",
                      pid_key[] = "\",\"pid\":", request_key[] = ",\"request_id\":\"";
    char stamp[24];
    size_t used = 0;
    put(buf, &used, cap, ts, sizeof(ts) - 1);
    put(buf, &used, cap, stamp, put_timestamp(stamp));
    put(buf, &used, cap, level_key, sizeof(level_key) - 1);
    put(buf, &used, cap, level_names[level], strlen(level_names[level]));
    put(buf, &used, cap, role_key, sizeof(role_key) - 1);
    put(buf, &used, cap, log_role, strlen(log_role));
    put(buf, &used, cap, pid_key, sizeof(pid_key) - 1);
    put_number(buf, &used, cap, log_pid);
    if (log_request_id != NULL && used + 20 < cap) {
        put(buf, &used, cap, request_key, sizeof(request_key) - 1);
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

/* Escape s into buf + *used, at most limit - 1 bytes of it (the former per-field buffers'
 * bounds), then close the string with a quote. */
static void
put_escaped(char *buf, size_t *used, size_t cap, const char *s, size_t limit)
{
    if (cap - *used < 2) {
        return;
    }
    size_t room = cap - *used - 1;
    *used += log_json_escape(buf + *used, limit < room ? limit : room, s);
    put(buf, used, cap, "\"", 1);
}

void
log_access_line(const struct log_access *a)
{
    char buf[4096];
    if (log_min > LOG_INFO) {
        return;
    }
    size_t used = line_prefix(buf, sizeof(buf), LOG_INFO);
    PUT_LIT(buf, used, ",\"msg\":\"access\",\"method\":\"");
    put_escaped(buf, &used, sizeof(buf), a->method, 32);
    PUT_LIT(buf, used, ",\"path\":\"");
    put_escaped(buf, &used, sizeof(buf), a->path, 1024);
    PUT_LIT(buf, used, ",\"route\":\"");
    put_escaped(buf, &used, sizeof(buf), a->route, 256);
    PUT_LIT(buf, used, ",\"status\":");
    put_number(buf, &used, sizeof(buf), a->status);
    /* milliseconds with three decimals, as "%.3f" of latency_us / 1000.0 prints them */
    char ms[32];
    size_t n = put_dec(ms, a->latency_us / 1000, 0);
    ms[n++] = '.';
    n += put_dec(ms + n, a->latency_us % 1000, 3);
    PUT_LIT(buf, used, ",\"latency_ms\":");
    put(buf, &used, sizeof(buf), ms, n);
    PUT_LIT(buf, used, ",\"bytes\":");
    put(buf, &used, sizeof(buf), ms, put_dec(ms, a->bytes_out, 0));
    line_emit(buf, used, sizeof(buf), true);
}
