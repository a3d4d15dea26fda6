/*
 * The load of test_faults and test_cluster (issues 16 and 18): writer threads that write at a
 * steady rate — listing creates and If-Match patches, favourites added and removed, orders with
 * an Idempotency-Key (retried with the same key until a definitive answer), profile patches,
 * reads with X-Min-Seq — and the invariants checked once the faults are over: the read model
 * equals PostgreSQL; every acknowledged listing version and event is in the read model;
 * sellers' active-listing counts equal PostgreSQL's; every acknowledged favourite state holds;
 * every Idempotency-Key made exactly one order; no listing is in two live orders; the ledger
 * sums to zero.
 */
#ifndef FAULTS_LOAD_H
#define FAULTS_LOAD_H

#include <pthread.h>
#include <stdbool.h>

#include <libpq-fe.h>

#include "itest.h"

#define WRITERS 4
#define PERIOD_MS 20             /* one request per writer per period at most: a steady rate */
#define MAX_REQUESTS 2500        /* per writer: the test is bounded in requests ... */
#define MAX_LISTINGS 400
#define MAX_ORDERS 200
#define ORDER_DEADLINE_MS 45000  /* ... and an order's retries in time */
#define PROGRESS 60              /* acknowledged writes wanted between two faults */

#define ADDRESS                                                                                                        \
    "{\"name\":\"Ada Lovelace\",\"line1\":\"Unter den Linden 1\",\"city\":\"Berlin\",\"postal_code\":\"10117\","       \
    "\"country\":\"DE\"}"

struct listing_rec {
    char id[40];
    long long version;   /* the last acknowledged version */
    long long seq;       /* the X-Event-Seq of that acknowledgement */
    bool usable;         /* false once a patch's outcome is unknown, or sold */
    signed char fav;     /* the buyer's acknowledged favourite: 0 no, 1 yes, -1 unknown */
};

struct order_rec {
    char key[96];
    int listing;          /* index into listings */
    char order_id[40];    /* from the 201 */
    int sends;
    bool resolved;        /* a definitive answer came */
};

struct writer {
    int no;
    pthread_t thread;
    struct itest_user seller, buyer;
    struct listing_rec listings[MAX_LISTINGS];
    int nlistings;
    struct order_rec orders[MAX_ORDERS];
    int norders;
    int next_order;   /* the next listing index to buy */
    int next_patch;
    long long profile_seq;   /* the X-Event-Seq of the last acknowledged profile patch */
    /* counters */
    long requests, acked, unavailable, conn_failed, server_errors, unexpected, replays, reads, stale_reads;
    long reads_failed;   /* reads without an answer or with 502/503/504 (also in unavailable/conn_failed) */
    char problems[4][400];
    int nproblems;
};

/* The writers (their users set by the test), and the flag that stops them. */
extern struct writer writers[WRITERS];
extern volatile int stop_writers;

/* A writer thread's body: pthread_create(&w->thread, NULL, writer_run, w). */
void *writer_run(void *arg);

/* Writes go on: `more` acknowledgements after this moment, within the deadline (else the test fails). */
void wait_for_writes(long more, int timeout_ms, const char *after);

/* A number from SQL with up to two text parameters. */
long long pg_num(PGconn *c, const char *sql, const char *p1, const char *p2);

/* Every invariant above; fails the test on the first that does not hold. */
void check_invariants(void);

#endif
