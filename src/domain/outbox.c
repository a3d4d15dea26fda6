#include "domain/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

static const struct pg_stmt APPEND = {
    "outbox_append",
    "INSERT INTO outbox (aggregate_type, aggregate_id, aggregate_version, event_type, payload) "
    "VALUES ($1, $2::uuid, $3::bigint, $4, $5::jsonb) RETURNING seq",
    5,
};

/* In (xid8 txid, seq) order, the order the checkpoint compares in. The text columns carry
 * their own names and ORDER BY is qualified: a bare "ORDER BY txid" binds to an output column
 * of that name first, and with "txid::text" selected it sorted '10000' before '736', so a
 * full batch moved the checkpoint past events it had not read (issue 17). */
static const struct pg_stmt READ = {
    "outbox_read",
    "SELECT o.seq, o.txid::text AS txid_text, o.aggregate_type, o.aggregate_id::text AS aggregate_id_text, "
    "       o.aggregate_version, o.event_type, o.payload::text AS payload_text, "
    "       (extract(epoch FROM o.created_at) * 1000)::bigint "
    "FROM outbox o "
    "WHERE (o.txid, o.seq) > ($1::xid8, $2::bigint) "
    "  AND o.txid < pg_snapshot_xmin(pg_current_snapshot()) "
    "ORDER BY o.txid, o.seq LIMIT $3::int",
    3,
};

/* The backlog's gauges, every 250 ms while the projector works: counted exactly up to
 * BACKLOG_LIMIT - 1 events (the first ones in apply order, by the (txid, seq) index), beyond that
 * estimated from the head's seq. Counting a whole backlog read every pending row: during a
 * rebuild of 229k events, a parallel sequential scan of the outbox (0.47 s, three processes)
 * after every batch, on the projector's own connection, so the projector waited for it. */
#define BACKLOG_LIMIT 1001   /* counted up to 1,000; the 1,001st row says "beyond" */
#define BACKLOG_TEXT_(n) #n
#define BACKLOG_TEXT(n) BACKLOG_TEXT_(n)
static const struct pg_stmt BACKLOG = {
    "outbox_backlog",
    "SELECT count(*), coalesce((extract(epoch FROM clock_timestamp() - min(created_at)) * 1000)::bigint, 0), "
    "       (SELECT coalesce(max(seq), 0) FROM outbox) "
    "FROM (SELECT created_at FROM outbox WHERE (txid, seq) > ($1::xid8, $2::bigint) "
    "      ORDER BY txid, seq LIMIT " BACKLOG_TEXT(BACKLOG_LIMIT) ") AS first_pending",
    2,
};

int
outbox_append(struct pg *pg, arena_t *arena, const struct outbox_event *ev, long long *seq)
{
    char version[24];
    snprintf(version, sizeof(version), "%lld", ev->version);
    const char *values[] = {ev->aggregate_type, ev->aggregate_id, version, ev->event_type, ev->payload};
    PGresult *res;
    int rc = pg_exec(pg, arena, &APPEND, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    *seq = pg_int(res, 0, 0);
    return MK_OK;
}

int
outbox_read(struct pg *pg, arena_t *arena, const struct outbox_pos *after, int limit, struct outbox_row **rows,
            int *n)
{
    char seq[24], lim[16];
    snprintf(seq, sizeof(seq), "%lld", after->seq);
    snprintf(lim, sizeof(lim), "%d", limit);
    const char *values[] = {after->txid, seq, lim};
    PGresult *res;
    *rows = NULL;
    *n = 0;
    int rc = pg_exec(pg, arena, &READ, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    int count = pg_nrows(res);
    struct outbox_row *out = arena_calloc(arena, sizeof(*out) * (size_t)(count > 0 ? count : 1));
    for (int i = 0; i < count; i++) {
        out[i].seq = pg_int(res, i, 0);
        out[i].txid = pg_value(res, i, 1);
        out[i].aggregate_type = pg_value(res, i, 2);
        out[i].aggregate_id = pg_value(res, i, 3);
        out[i].version = pg_int(res, i, 4);
        out[i].event_type = pg_value(res, i, 5);
        out[i].payload = pg_value(res, i, 6);
        out[i].created_ms = pg_int(res, i, 7);
    }
    *rows = out;
    *n = count;
    return MK_OK;
}

int
outbox_backlog(struct pg *pg, arena_t *arena, const struct outbox_pos *after, long long *pending,
               long long *head_seq, long long *oldest_age_ms)
{
    char seq[24];
    snprintf(seq, sizeof(seq), "%lld", after->seq);
    const char *values[] = {after->txid, seq};
    PGresult *res;
    int rc = pg_exec(pg, arena, &BACKLOG, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    *pending = pg_int(res, 0, 0);
    *oldest_age_ms = *pending > 0 ? pg_int(res, 0, 1) : 0;
    *head_seq = pg_int(res, 0, 2);
    if (*pending >= BACKLOG_LIMIT && *head_seq - after->seq > *pending) {
        *pending = *head_seq - after->seq;   /* an estimate: sequence gaps count, late commits do not */
    }
    return MK_OK;
}

int
outbox_pos_cmp(const struct outbox_pos *a, const struct outbox_pos *b)
{
    unsigned long long ta = strtoull(a->txid, NULL, 10);
    unsigned long long tb = strtoull(b->txid, NULL, 10);
    if (ta != tb) {
        return ta < tb ? -1 : 1;
    }
    return a->seq < b->seq ? -1 : (a->seq > b->seq ? 1 : 0);
}

int
outbox_append_doc(struct pg *pg, arena_t *arena, const char *aggregate_type, const char *aggregate_id,
                  long long version, const char *event_type, json_object *doc, long long *seq)
{
    struct outbox_event ev = {
        .aggregate_type = aggregate_type,
        .aggregate_id = aggregate_id,
        .version = version,
        .event_type = event_type,
        .payload = arena_strdup(arena, json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN)),
    };
    json_object_put(doc);
    return outbox_append(pg, arena, &ev, seq);
}
