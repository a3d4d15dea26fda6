#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char log_role[32] = "marketd";
static enum log_level log_min = LOG_INFO;
static const char *log_request_id;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
log_init(const char *role, const char *level)
{
    snprintf(log_role, sizeof(log_role), "%s", role);
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
                     (long)(tv.tv_usec / 1000), level_names[level], log_role, (int)getpid());
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
line_emit(char *buf, size_t used, size_t cap)
{
    if (used + 3 > cap) {
        used = cap - 3;
    }
    buf[used++] = '}';
    buf[used++] = '\n';
    ssize_t w = write(STDERR_FILENO, buf, used);
    (void)w;
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
    line_emit(buf, used, sizeof(buf));
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
    line_emit(buf, used, sizeof(buf));
}
