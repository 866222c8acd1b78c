/*
 * tmp.h - temporary files: in $TMPDIR (else /tmp), mode 0600, unlinked as soon as they are
 * created so that nothing outlives the process, even a killed one. The upload's part spool, the
 * archive writer's spool for entries of unknown size and the id index's overflow (through SQLite,
 * which takes lcb_tmp_dir()) all live there: TMPDIR is the one setting an operator turns.
 */
#ifndef LCB_CORE_TMP_H
#define LCB_CORE_TMP_H

/* $TMPDIR when set and not empty, else "/tmp" (borrowed). */
const char *lcb_tmp_dir(void);
/* An unlinked temporary file "lcbackup-<what>-XXXXXX" in dir (NULL: lcb_tmp_dir()), opened
 * read-write and close-on-exec. Returns the descriptor, or -1 with errno set. */
int lcb_tmp_open(const char *dir, const char *what);

#endif
