/*
 * notify.h — which notifications an outbox event makes, for whom (notify_map: a pure
 * mapping, no store), their deterministic ids, the webhook retry schedule, and the few
 * PostgreSQL verbs the notification features share (through store/pg, never a driver):
 * a user's capped list (saved searches, webhooks), marking read, emitting an event.
 *
 * Exactly once per event and recipient: a notification's id is a hash of the event's
 * identity (aggregate type, id and version, event type — not its outbox seq, so a
 * duplicated outbox row maps to the same id) and of the recipient and type. The projector
 * inserts with that _id only when absent, so replays, restarts and rebuilds add nothing.
 */
#ifndef MK_NOTIFY_H
#define MK_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "core/arena.h"
#include "core/http.h"

#define NOTIFY_MAX_DIRECT 4

/* SQL: a timestamptz column as RFC 3339 UTC text. */

struct pg;
struct pg_stmt;

/* Notification types of API.md. */
extern const char *const notify_types[];
extern const size_t notify_types_count;

/* True when type is one of notify_types. */
bool notify_type_valid(const char *type);

/* One notification to one recipient: data is owned by the arena. */
struct notify_target {
    const char *recipient;
    const char *type;
    json_object *data;
};

/* What an event asks the caller to add, beyond the direct targets. */
struct notify_plan {
    struct notify_target direct[NOTIFY_MAX_DIRECT];
    size_t ndirect;
    /* every user who favourites fanout_listing (but exclude[0..1]) gets fanout_type with fanout_data */
    const char *fanout_type;
    const char *fanout_listing;
    json_object *fanout_data;
    const char *exclude[2];
    /* the listing (payload) just became active: match it against alerting saved searches */
    bool match_saved_searches;
};

/*
 * Map an event (its type and parsed payload) to notifications. Events that make none give
 * an empty plan. Payloads missing what a mapping needs give an empty plan too (logged by
 * the caller as nothing to do). Pure: the unit tests call it with synthetic events.
 */
void notify_map(arena_t *a, const char *event_type, json_object *payload, struct notify_plan *out);

/* The notification id (a UUID, version 8 layout) of (event identity, recipient, type). */
void notify_id(char out[37], const char *aggregate_type, const char *aggregate_id, long long version,
               const char *event_type, const char *recipient, const char *type);

/*
 * The webhook retry schedule of API.md: after `attempts` failed attempts (1 or more), of
 * which the first was `since_first_s` seconds ago, the delay before the next one in
 * seconds (5, 30, 120, 600, 3600, then 21600 while within 3 days of the first), or -1:
 * give up. (The deliverer may scale it down by webhook_backoff_scale_pct, test stacks only.)
 */
long notify_retry_delay_s(int attempts, long since_first_s);

/*
 * POST /users/me/notifications/read inside the caller's transaction: the user's feed
 * version is bumped (its row lock orders one user's marks) and a notification.read event
 * {user_id, ids} or {user_id, all: true} appended; the projector applies it to the read
 * model in outbox order, so a rebuild reproduces every read state. ids may be NULL (all).
 */
#define NOTIFY_READ_MAX_IDS 500

/* Check a POST /users/me/notifications/read body: {"ids": [1..500 notification ids]} or
 * {"all": true}. MK_OK with *ids (lower-case, r's arena; NULL: all), or MK_EVALIDATION
 * (fields on r). */
int notify_parse_read(struct request *r, json_object *body, json_object **ids);

int notify_mark_read(struct pg *pg, arena_t *a, const char *user_id, json_object *ids, long long *seq);

/* Parse JSON text into an object owned by the arena; NULL when it is not JSON. */
json_object *notify_json(arena_t *a, const char *text);

/* The first row's first column of stmt, JSON text, parsed into *out (the arena's). */
int notify_json_row(struct pg *pg, arena_t *a, const struct pg_stmt *stmt, const char *const *values,
                    json_object **out);

/*
 * A user's capped list of soft-deleted rows (saved searches, webhooks): the first statement
 * takes the user's advisory lock for the transaction, the second counts the live rows ($1: the
 * user id), so two concurrent inserts cannot both pass the cap. Two statements, not one: under
 * READ COMMITTED a statement's snapshot is taken before it waits for the lock, so a count in the
 * statement that waited missed the row its holder had just committed — sixteen creates at once
 * took a user to 53 saved searches and 23 webhooks (found by a live race run, 2026-11-30).
 * notify_user_cap runs both: MK_OK below max, MK_ECONFLICT at it.
 */
#define NOTIFY_USER_LOCK_SQL(table) "SELECT pg_advisory_xact_lock(hashtextextended('" table ":' || $1, 0))"
#define NOTIFY_USER_COUNT_SQL(table) "SELECT count(*) FROM " table " WHERE user_id = $1::uuid AND deleted_at IS NULL"
/* The same list's live rows, oldest first, as one JSON array text: shape is a JSON
 * expression over the row's alias (the table is read as `t`). $1 is the user id. */
#define NOTIFY_USER_LIST_SQL(table, shape)                                                                         \
    "SELECT coalesce(json_agg(" shape " ORDER BY t.created_at, t.id), '[]')::text "                              \
    "FROM " table " t WHERE t.user_id = $1::uuid AND t.deleted_at IS NULL"
int notify_user_cap(struct pg *pg, arena_t *a, const struct pg_stmt *lock, const struct pg_stmt *count,
                    const char *user_id, long max);

/* Append an event of a user's own resource (saved_search.*, webhook.*) with payload. */
int notify_emit(struct pg *pg, arena_t *a, const char *aggregate_type, const char *id, long long version,
                const char *event_type, json_object *payload, long long *seq);

#endif
