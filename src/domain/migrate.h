/*
 * migrate.h — numbered SQL migrations (sql/NNN_name.sql), each applied once, in its own
 * transaction, in number order, recorded in schema_migrations. Concurrent runners are
 * serialised by an advisory lock, so two `marketd --migrate` at once are harmless.
 */
#ifndef MK_MIGRATE_H
#define MK_MIGRATE_H

#include "store/pg.h"

/* Apply the pending migrations of sql_dir. *applied receives how many ran. Errors are
 * printed to stderr with the file name (this runs from the command line). */
int migrate_run(struct pg *pg, const char *sql_dir, int *applied);

/* Parse "NNN_name.sql" into its number; -1 when the name is not a migration's. */
long migrate_number(const char *filename);

#endif
