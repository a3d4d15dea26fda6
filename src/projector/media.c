/*
 * Thumbnails of attached images and deletion of removed objects, off the projector's
 * critical path (see projections.h): a media thread of each projector process, with its own
 * PostgreSQL and S3 handles, works from PostgreSQL (pending images, queued deletions).
 *
 * An image is claimed for a while in a short transaction, fetched and thumbnailed with no
 * transaction open (a transaction holding an id for seconds would hold the outbox's xmin
 * horizon, and so all projection, back), and its outcome recorded in a second short
 * transaction that appends listing.image_processed or listing.image_rejected. Claims that
 * run out (a crash, S3 down) are taken again, by this process or another; every projector
 * process (the active one and its standbys) runs a media thread, SKIP LOCKED shares the work.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/log.h"
#include "domain/image.h"
#include "domain/listing.h"
#include "media/thumb.h"
#include "projector/projections.h"
#include "worker.h"

#define THUMB_SIDE 320
#define CLAIM_S 120            /* how long a claimed image is ours */
#define RETRY_S 5              /* S3 unavailable: try the image again after this */
#define BROKEN_S 3600          /* the encoder failed (not the image): try again much later */
#define DELETIONS_PER_STEP 32

struct media {
    const struct config *cfg;
    struct pg pg;
    struct s3 s3;
    arena_t *arena;
    pthread_t thread;
    int wake_fd;               /* eventfd: the projector applied an image event */
    atomic_bool stop;
    bool running;
};

static struct media media = {.wake_fd = -1};

void
media_wake(void)
{
    if (media.wake_fd >= 0) {
        uint64_t one = 1;
        ssize_t n = write(media.wake_fd, &one, sizeof(one));
        (void)n;   /* the counter saturating still wakes the thread */
    }
}

/* Record the outcome of image_id in one transaction. ready: the thumbnail's size and key
 * (listing.image_processed); otherwise the image goes (listing.image_rejected). An image
 * removed meanwhile is left alone, and a thumbnail made for it is queued for deletion. */
static int
finish(struct media *m, const char *image_id, bool ready, const struct thumb_result *t, const char *thumb_key)
{
    arena_t *a = m->arena;
    char *listing_id, *key;
    long long size, seq = 0;
    int rc = pg_simple(&m->pg, "BEGIN");
    if (rc != MK_OK) {
        return rc;
    }
    rc = image_lock_pending(&m->pg, a, image_id, &listing_id, &key, &size);
    if (rc == MK_OK) {
        json_object *extra = json_object_new_object();
        json_object_object_add(extra, "image_id", json_object_new_string(image_id));
        if (ready) {
            rc = image_mark_ready(&m->pg, a, image_id, t->width, t->height, thumb_key);
        } else {
            json_object *keys = json_object_new_array();
            json_object_array_add(keys, json_object_new_string(key));
            json_object_object_add(extra, "removed_keys", keys);
            rc = image_delete(&m->pg, a, image_id);
        }
        if (rc == MK_OK && (rc = listing_touch(&m->pg, a, listing_id)) == MK_OK) {
            rc = listing_emit(&m->pg, a, listing_id, ready ? "listing.image_processed" : "listing.image_rejected",
                              extra, &seq, NULL);
        }
        json_object_put(extra);
    } else if (rc == MK_ENOTFOUND) {
        rc = ready ? media_deletion_queue(&m->pg, a, &thumb_key, 1) : MK_OK;
    }
    int end = pg_simple(&m->pg, rc == MK_OK ? "COMMIT" : "ROLLBACK");
    rc = rc == MK_OK ? end : rc;
    if (rc == MK_OK && seq > 0) {
        log_debug("media: image %s %s (event seq %lld)", image_id, ready ? "processed" : "rejected", seq);
    }
    return rc;
}

/* Thumbnail the oldest pending image nobody holds. 1: one was handled (or set aside), 0: none
 * waits, <0: trouble (S3 or PostgreSQL unavailable). */
static int
thumbnail_one(struct media *m)
{
    arena_t *a = m->arena;
    char *image_id, *listing_id, *key;
    int rc = image_claim_pending(&m->pg, a, CLAIM_S, &image_id, &listing_id, &key);
    if (rc != MK_OK) {
        return rc == MK_ENOTFOUND ? 0 : rc;
    }
    struct s3_response obj;
    rc = s3_request(&m->s3, a, "GET", key, NULL, 0, NULL, LISTING_IMAGE_MAX_BYTES, &obj);
    if (rc == MK_EUNAVAILABLE || (rc == MK_OK && obj.status >= 500)) {
        image_claim_extend(&m->pg, a, image_id, RETRY_S);
        return MK_EUNAVAILABLE;
    }
    struct thumb_result t = {0};
    int verdict = rc == MK_OK && obj.status == 200 ? thumb_make(a, obj.body, obj.body_len, THUMB_SIDE, &t)
                                                   : MK_EVALIDATION;
    if (verdict == MK_EVALIDATION) {
        log_info("media: image %s (%s) is not a usable image (%s); removed", image_id, key,
                 t.error != NULL ? t.error : "object missing or too large");
        rc = finish(m, image_id, false, NULL, NULL);
    } else if (verdict != MK_OK) {
        /* Not the image's fault (a broken encoder): set it aside for a long while. */
        log_error("media: thumbnail of %s failed (%s)", key, t.error != NULL ? t.error : "internal");
        image_claim_extend(&m->pg, a, image_id, BROKEN_S);
        return 1;
    } else {
        char *thumb_key = image_thumb_key(a, key);
        struct s3_response put;
        rc = s3_request(&m->s3, a, "PUT", thumb_key, t.data, t.len, t.content_type, 0, &put);
        if (rc != MK_OK || put.status >= 300) {
            image_claim_extend(&m->pg, a, image_id, RETRY_S);
            return MK_EUNAVAILABLE;
        }
        rc = finish(m, image_id, true, &t, thumb_key);
    }
    if (rc != MK_OK) {
        image_claim_extend(&m->pg, a, image_id, 1);   /* a conflict or an outage: soon again */
        return rc;
    }
    return 1;
}

/* Delete due objects from the bucket (404 counts as done). The count deleted, or <0. */
static int
delete_due(struct media *m)
{
    char **keys;
    int n;
    int rc = media_deletion_claim(&m->pg, m->arena, DELETIONS_PER_STEP, &keys, &n);
    if (rc != MK_OK) {
        return rc;
    }
    int done = 0;
    for (int i = 0; i < n; i++) {
        struct s3_response resp;
        rc = s3_request(&m->s3, m->arena, "DELETE", keys[i], NULL, 0, NULL, 0, &resp);
        if (rc != MK_OK || resp.status >= 500) {
            return MK_EUNAVAILABLE;   /* the rest stay claimed for a while, then are due again */
        }
        if (resp.status >= 300 && resp.status != 404) {
            log_warn("media: DELETE %s answered %ld; left in the bucket", keys[i], resp.status);
        }
        if (media_deletion_done(&m->pg, m->arena, keys[i]) == MK_OK) {
            done++;
        }
    }
    return done;
}

static void
wait_for_work(struct media *m, int timeout_ms)
{
    struct pollfd pfd = {m->wake_fd, POLLIN, 0};
    if (poll(&pfd, 1, timeout_ms) > 0) {
        uint64_t n;
        ssize_t r = read(m->wake_fd, &n, sizeof(n));
        (void)r;
    }
}

static void *
media_main(void *arg)
{
    struct media *m = arg;
    int backoff = 100;
    while (!atomic_load(&m->stop)) {
        arena_reset(m->arena);
        int made = thumbnail_one(m);
        int deleted = delete_due(m);
        if (made > 0 || deleted > 0) {
            backoff = 100;
            continue;
        }
        if (made < 0 || deleted < 0) {
            wait_for_work(m, backoff);
            backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
            continue;
        }
        backoff = 100;
        wait_for_work(m, m->cfg->projector_poll_ms);
    }
    return NULL;
}

int
media_start(const struct config *cfg)
{
    struct media *m = &media;
    m->cfg = cfg;
    pg_init(&m->pg, cfg->pg_dsn, cfg->pg_statement_timeout_ms);
    if (s3_init(&m->s3, cfg->s3_endpoint, cfg->s3_region, cfg->s3_bucket, cfg->s3_access_key, cfg->s3_secret_key,
                cfg->s3_path_style, cfg->s3_timeout_ms) != MK_OK) {
        return MK_EINTERNAL;
    }
    m->arena = arena_create(64 * 1024);
    m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m->wake_fd < 0) {
        log_error("media: eventfd: %s", strerror(errno));
        return MK_EINTERNAL;
    }
    atomic_store(&m->stop, false);
    int rc = projector_thread_start(&m->thread, media_main, m, "media");
    m->running = rc == MK_OK;
    return rc;
}

void
media_stop(void)
{
    struct media *m = &media;
    if (!m->running) {
        return;
    }
    atomic_store(&m->stop, true);
    media_wake();
    pthread_join(m->thread, NULL);
    m->running = false;
    close(m->wake_fd);
    m->wake_fd = -1;
    arena_destroy(m->arena);
    pg_close(&m->pg);
    s3_close(&m->s3);
}

int
media_queue_removed(struct projection_ctx *p, json_object *payload)
{
    json_object *keys;
    if (!json_object_object_get_ex(payload, "removed_keys", &keys) || !json_object_is_type(keys, json_type_array)) {
        return MK_OK;
    }
    size_t n = json_object_array_length(keys);
    const char **list = arena_alloc(p->arena, sizeof(char *) * (n > 0 ? n : 1));
    for (size_t i = 0; i < n; i++) {
        list[i] = json_object_get_string(json_object_array_get_idx(keys, i));
    }
    int rc = media_deletion_queue(&p->w->pg, p->arena, list, n);
    if (rc == MK_OK) {
        media_wake();
    }
    return rc == MK_OK ? MK_OK : MK_EUNAVAILABLE;
}
