/*
 * opt.h - command-line options from a table (one per command file).
 *
 *   int dry_run = 0; const char *target = NULL; struct lcb_strlist sgs = LCB_STRLIST_INIT;
 *   const struct lcb_opt opts[] = {
 *       { "dry-run", 'n', LCB_OPT_FLAG, &dry_run },
 *       { "target", 0, LCB_OPT_STR, &target },
 *       { "security-group", 0, LCB_OPT_LIST, &sgs },
 *       { NULL }
 *   };
 *   if (lcb_opt_parse(opts, argc, argv, &pos, err) < 0) return -1;
 *
 * Accepts "--name value", "--name=value", "-n", and "--" to end the options. A LIST option may be
 * repeated and also splits on commas. Positional arguments are collected in order. Unknown options,
 * missing values and malformed numbers or durations fail with LCB_EUSAGE naming the option.
 */
#ifndef LCB_CORE_OPT_H
#define LCB_CORE_OPT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum lcb_opt_type {
    LCB_OPT_FLAG,     /* int *, set to 1 (counted for -v) */
    LCB_OPT_STR,      /* const char **, points into argv */
    LCB_OPT_INT,      /* long long *, a whole number >= 0 */
    LCB_OPT_LIST,     /* struct lcb_strlist * */
    LCB_OPT_DURATION, /* int64_t * seconds ("90s", "2h", "7d") */
};

struct lcb_opt {
    const char *name; /* long name without "--"; NULL ends the table */
    char short_name;  /* 0 when none */
    enum lcb_opt_type type;
    void *dest;
};

struct lcb_strlist {
    char **items;
    size_t n;
};

#define LCB_STRLIST_INIT { NULL, 0 }

void lcb_strlist_add(struct lcb_strlist *l, const char *s);
/* Add each comma-separated part of s (empty parts skipped). */
void lcb_strlist_add_split(struct lcb_strlist *l, const char *s);
int lcb_strlist_has(const struct lcb_strlist *l, const char *s);
void lcb_strlist_release(struct lcb_strlist *l);

/* Parse argv[0..argc) (argv[0] is the first argument, not the program). Positional arguments go to
 * pos (may be NULL: then any positional argument is an error). Returns 0 or -1 (LCB_EUSAGE). */
int lcb_opt_parse(const struct lcb_opt *opts, int argc, char **argv, struct lcb_strlist *pos,
                  struct lcb_err *err);

#endif
