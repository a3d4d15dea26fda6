/*
 * config.h — marketd configuration: a `key = value` file, then MARKET_<KEY> environment
 * variables over it, then validation. Frozen after start-up; workers only read it.
 */
#ifndef MK_CONFIG_H
#define MK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct config {
    /* process model */
    char *command_listen;    /* "unix:/path" or "host:port" */
    char *query_listen;
    int command_workers;
    int query_workers;
    int max_requests;        /* a worker is recycled after this many requests */
    int graceful_timeout_s;  /* SIGTERM: in-flight requests get this long */
    int listen_backlog;
    int socket_mode;         /* octal permissions of a unix socket */
    char *run_dir;           /* metrics segments of every role live here */
    char *sql_dir;           /* numbered migrations */
    char *log_level;         /* debug | info | warn | error */

    /* stores */
    char *pg_dsn;
    char *pg_replica_dsn;    /* optional: private reads of the query role */
    int pg_statement_timeout_ms;
    bool pg_transaction_pooling; /* pg_dsn/pg_replica_dsn reach a transaction pooler (PgBouncer):
                                  * unnamed statements, no session parameters */
    int replica_wait_ms;     /* a private read waits this long for the replica to replay the
                              * user's last commit, then reads the primary */
    char *mongo_uri;
    char *mongo_db;
    char *redis_host;
    int redis_port;
    char *redis_socket;      /* preferred over host:port when set */
    int redis_timeout_ms;
    char *s3_endpoint;       /* http(s)://host:port */
    char *s3_region;
    char *s3_bucket;
    char *s3_access_key;
    char *s3_secret_key;
    bool s3_path_style;
    char *s3_public_base_url;
    char *s3_presign_endpoint; /* endpoint clients upload to; empty: s3_endpoint */
    int s3_timeout_ms;

    /* HTTP behaviour */
    char *public_origin;     /* expected Origin of cookie-authenticated writes */
    int session_ttl_s;       /* sliding lifetime of a login session */
    int login_max_failures;  /* failed logins per email in a window before 429 */
    int login_window_s;
    int api_rate_per_s;      /* the API's requests a second per client address (nginx's zone market_api, */
    int api_rate_burst;      /* and marketd's for what nginx's cached locations pass on: worker_admit) */
    int password_opslimit;   /* Argon2id passes; never below libsodium's "interactive" (2) */
    int password_memlimit_kib; /* Argon2id memory; never below "interactive" (65536 KiB) */
    int min_seq_wait_ms;     /* X-Min-Seq waits at most this long */
    char *cursor_secret;     /* keys the MAC of list cursors; the same on every worker */
    int cache_listing_ttl_s; /* Redis cache-aside of listing documents and profiles */
    int cache_search_ttl_s;  /* Redis cache of search pages */
    int cache_search_min_uses; /* a search page is stored on its Nth miss within cache_search_ttl_s (1 or 2) */
    int http_cache_ttl_s;    /* nginx's TTL of anonymous catalogue reads (its fastcgi_cache_valid; 0: not kept) */
    char *nginx_purge_url;   /* base of nginx's purge location; empty: no purges */
    char *nginx_access_log;  /* nginx's market_json access log, for cache metrics; empty: off */
    int offer_ttl_s;         /* an open offer expires this long after its last move */
    int reservation_ttl_s;   /* an accepted offer reserves the listing this long */

    /* projector */
    int projector_poll_ms;
    int projector_batch;
    int projector_processes;   /* supervised projector processes: one active, the rest hot standbys */
    int projector_watchdog_s;  /* a projector process without progress for this long is killed (0: never) */

    /* webhooks (the deliverer role) */
    char *webhook_allow_hosts;     /* comma list of hosts exempt from the address checks (http:// allowed too) */
    char *webhook_secret_key;      /* 64 hex digits: the secretbox key sealing webhook secrets */
    int webhook_timeout_ms;        /* one attempt's bound (API.md: 10 s) */
    int webhook_backoff_scale_pct; /* retry delays scaled by this percentage: 100 in production, small on test stacks */
    int deliverer_processes;       /* supervised deliverer processes (deliveries are claimed, so any number) */
    int deliverer_poll_ms;         /* fallback poll when no NOTIFY came */
    /* insights (issue 13) */
    int views_fold_ms;         /* how often the active projector folds view counts into the read model */
    int insights_cache_ttl_s;  /* Redis cache of price insights and similar items */
};

/* Fill c with the defaults. Strings are heap copies owned by c. */
void config_defaults(struct config *c);

/*
 * Load path (NULL: defaults only), then environment overrides from envp (NULL-terminated,
 * NULL: none), then validate. On error returns a negative code and writes a message
 * naming the key and the line into err. c must have been filled by config_defaults().
 */
int config_load(struct config *c, const char *path, char *const *envp, char *err, size_t errlen);

/* Set one key from text, as a file line would. Used by config_load and tests. */
int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen);

/* Free every string of c. */
void config_free(struct config *c);

/* Write every key and its value to fd as `key = value` lines, secrets masked. */
void config_dump(const struct config *c, int fd);

#endif
