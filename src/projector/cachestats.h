/*
 * cachestats.h — nginx's cache outcomes for /metrics. Open-source nginx keeps no cache
 * counters, but its access log has $upstream_cache_status ("cache":"HIT" in the
 * market_json format). The active projector reads the lines added since its last look
 * (following rotation) and counts HIT, MISS, BYPASS, EXPIRED, STALE, UPDATING and
 * REVALIDATED into the projector's metrics segment. It starts at the end of the file, so a
 * new or failed-over projector never counts a line twice.
 */
#ifndef MK_CACHESTATS_H
#define MK_CACHESTATS_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/metrics.h"

struct cachestats {
    char *path;          /* NULL or "": off */
    ino_t inode;
    off_t offset;
    bool started;
    char partial[512];   /* the start of a line whose end has not been written yet */
    size_t npartial;
};

void cachestats_init(struct cachestats *cs, const char *path);
void cachestats_close(struct cachestats *cs);

/* Count the lines written since the last call (at most a few MiB at a time). */
void cachestats_poll(struct cachestats *cs, struct metrics_segment *m);

/* Count one log line's cache status into m (exposed for the unit test). */
void cachestats_count_line(const char *line, size_t len, struct metrics_segment *m);

#endif
