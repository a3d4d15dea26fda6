#include "projector/cachestats.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_MAX (4 * 1024 * 1024)

void
cachestats_init(struct cachestats *cs, const char *path)
{
    memset(cs, 0, sizeof(*cs));
    cs->path = path != NULL && path[0] != '\0' ? strdup(path) : NULL;
}

void
cachestats_close(struct cachestats *cs)
{
    free(cs->path);
    cs->path = NULL;
}

void
cachestats_count_line(const char *line, size_t len, struct metrics_segment *m)
{
    static const char key[] = "\"cache\":\"";
    const char *p = memmem(line, len, key, sizeof(key) - 1);
    if (p == NULL || m == NULL) {
        return;
    }
    p += sizeof(key) - 1;
    size_t rest = len - (size_t)(p - line);
    const char *end = memchr(p, '"', rest);
    if (end == NULL) {
        return;
    }
    size_t n = (size_t)(end - p);
    for (int i = 0; i < METRICS_CACHE_STATUSES; i++) {
        const char *name = metrics_cache_status_names[i];
        if (strlen(name) == n && memcmp(p, name, n) == 0) {
            metrics_add(m->nginx_cache[i], 1);
            return;
        }
    }
}

void
cachestats_poll(struct cachestats *cs, struct metrics_segment *m)
{
    if (cs->path == NULL || m == NULL) {
        return;
    }
    int fd = open(cs->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        return;
    }
    if (fstat(fd, &st) != 0) {
        close(fd);
        return;
    }
    if (!cs->started) {
        /* Only what is written from now on. */
        cs->started = true;
        cs->inode = st.st_ino;
        cs->offset = st.st_size;
        close(fd);
        return;
    }
    if (st.st_ino != cs->inode || st.st_size < cs->offset) {
        /* Rotated or truncated: the new file from its start. */
        cs->inode = st.st_ino;
        cs->offset = 0;
        cs->npartial = 0;
    }
    size_t want = (size_t)(st.st_size - cs->offset);
    if (want > READ_MAX) {
        want = READ_MAX;
    }
    if (want == 0) {
        close(fd);
        return;
    }
    char *buf = malloc(cs->npartial + want);
    if (buf == NULL) {
        close(fd);
        return;
    }
    memcpy(buf, cs->partial, cs->npartial);
    ssize_t got = pread(fd, buf + cs->npartial, want, cs->offset);
    close(fd);
    if (got <= 0) {
        free(buf);
        return;
    }
    cs->offset += got;
    size_t total = cs->npartial + (size_t)got, start = 0;
    for (size_t i = 0; i < total; i++) {
        if (buf[i] == '\n') {
            cachestats_count_line(buf + start, i - start, m);
            start = i + 1;
        }
    }
    /* Keep an unfinished last line for the next look (a longer one is simply skipped). */
    size_t left = total - start;
    cs->npartial = left <= sizeof(cs->partial) ? left : 0;
    memcpy(cs->partial, buf + start, cs->npartial);
    free(buf);
}
