/*
 * migrations.h - the catalog's schema migrations, compiled in from catalog/NNNN_name.sql by
 * scripts/embed-sql.sh. Version N is the state after applying migration N.
 */
#ifndef LCB_CATALOG_MIGRATIONS_H
#define LCB_CATALOG_MIGRATIONS_H

struct lcb_migration {
    int version;
    const char *name;
    const char *sql;
};

/* Ordered by version, ended by { 0, NULL, NULL }. */
extern const struct lcb_migration lcb_migrations[];

#endif
