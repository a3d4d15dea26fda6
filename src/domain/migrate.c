#include "domain/migrate.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

long
migrate_number(const char *name)
{
    const char *p = name;
    long n = 0;
    if (!isdigit((unsigned char)*p)) {
        return -1;
    }
    while (isdigit((unsigned char)*p)) {
        n = n * 10 + (*p - '0');
        if (n > 1000000) {
            return -1;
        }
        p++;
    }
    size_t len = strlen(name);
    if (*p != '_' || len < 5 || strcmp(name + len - 4, ".sql") != 0) {
        return -1;
    }
    return n;
}

static int
by_number(const struct dirent **a, const struct dirent **b)
{
    long x = migrate_number((*a)->d_name), y = migrate_number((*b)->d_name);
    return x < y ? -1 : (x > y ? 1 : strcmp((*a)->d_name, (*b)->d_name));
}

static int
is_migration(const struct dirent *d)
{
    return migrate_number(d->d_name) >= 0;
}

static char *
read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
    if (buf != NULL && fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        buf = NULL;
    }
    if (buf != NULL) {
        buf[size] = '\0';
    }
    fclose(f);
    return buf;
}

static const struct pg_stmt MIGRATION_DONE = {
    "migrate_done", "SELECT 1 FROM schema_migrations WHERE version = $1::int", 1};
static const struct pg_stmt MIGRATION_RECORD = {
    "migrate_record", "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)", 2};

/* Apply migration file name (number num) of sql_dir in one transaction. */
static int
apply_one(struct pg *pg, arena_t *a, const char *sql_dir, const char *name, const char *num)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", sql_dir, name);
    char *sql = read_file(path);
    if (sql == NULL) {
        fprintf(stderr, "migrate: cannot read %s: %s\n", path, strerror(errno));
        return MK_EBADPARAM;
    }
    const char *ins[] = {num, name};
    int rc = pg_script(pg, "BEGIN", name);
    if (rc == MK_OK) {
        rc = pg_script(pg, sql, name);
    }
    if (rc == MK_OK) {
        rc = pg_exec(pg, a, &MIGRATION_RECORD, ins, NULL);
    }
    rc = rc == MK_OK ? pg_script(pg, "COMMIT", name) : (pg_script(pg, "ROLLBACK", name), rc);
    if (rc == MK_OK) {
        fprintf(stderr, "migrate: applied %s\n", name);
    } else {
        fprintf(stderr, "migrate: %s was rolled back; nothing of it is applied (the log line above says why)\n",
                name);
    }
    free(sql);
    return rc;
}

int
migrate_run(struct pg *pg, const char *sql_dir, int *applied)
{
    *applied = 0;
    if (pg_conn(pg) == NULL) {
        fprintf(stderr, "migrate: cannot connect to PostgreSQL (see the log line above)\n");
        return MK_EUNAVAILABLE;
    }
    struct dirent **files = NULL;
    int nfiles = scandir(sql_dir, &files, is_migration, by_number);
    if (nfiles < 0) {
        fprintf(stderr, "migrate: cannot read %s: %s\n", sql_dir, strerror(errno));
        return MK_EBADPARAM;
    }
    arena_t *a = arena_create(16 * 1024);
    int rc = pg_script(pg,
                       "SET client_min_messages = warning;"
                       "CREATE TABLE IF NOT EXISTS schema_migrations ("
                       "  version int PRIMARY KEY, name text NOT NULL,"
                       "  applied_at timestamptz NOT NULL DEFAULT now());"
                       "SELECT pg_advisory_lock(hashtext('marketd.migrate'))",
                       "migrate: prepare");
    for (int i = 0; i < nfiles && rc == MK_OK; i++) {
        const char *name = files[i]->d_name;
        char num[24];
        snprintf(num, sizeof(num), "%ld", migrate_number(name));
        const char *params[] = {num};
        PGresult *res;
        rc = pg_exec(pg, a, &MIGRATION_DONE, params, &res);
        if (rc == MK_OK && pg_nrows(res) == 0) {
            rc = apply_one(pg, a, sql_dir, name, num);
            *applied += rc == MK_OK;
        }
        arena_reset(a);
    }
    pg_script(pg, "SELECT pg_advisory_unlock(hashtext('marketd.migrate'))", "migrate: unlock");
    arena_destroy(a);
    for (int i = 0; i < nfiles; i++) {
        free(files[i]);
    }
    free(files);
    return rc;
}
