/*
 * arc.h - POSIX tar streams through libarchive, in lcbackup's own types (arc.c is the only file
 * that includes archive.h).
 *
 * The writer produces a pax ("restricted": plain ustar headers unless a name needs a pax extended
 * header) tar stream entry by entry and hands it to a write callback in blocks of 10 KiB; it never
 * holds more than one block. Every entry is a regular file, mode 0644, uid/gid 0 with no owner
 * names, and the mtime the caller gives (one per archive keeps archives reproducible).
 *
 * The reader parses a tar stream pulled from a read callback, entry by entry, and refuses anything
 * that is not a regular file with a safe name (lcb_arc_name_check): no absolute paths, no "." or
 * ".." components, no empty components, printable ASCII only. It never writes to the file system.
 *
 * Errors: a callback's own error comes back unchanged (code included); libarchive's are
 * LCB_ECORRUPT (reading) or LCB_EINTERNAL (writing) with its message prefixed by "tar: ".
 */
#ifndef LCB_EXT_ARC_H
#define LCB_EXT_ARC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../core/err.h"

#define LCB_ARC_NAME_MAX 1024

/* Receives tar bytes. Return 0, or -1 with err filled. */
typedef int (*lcb_arc_write_fn)(void *ud, const void *data, size_t len, struct lcb_err *err);
/* Gives up to cap tar bytes in buf; *got = 0 means the end. Return 0, or -1 with err filled. */
typedef int (*lcb_arc_read_fn)(void *ud, void *buf, size_t cap, size_t *got, struct lcb_err *err);

struct lcb_arc_entry {
    const char *name; /* reader: borrowed, valid until the next lcb_arc_reader_next() */
    int64_t size;
    time_t mtime;
    unsigned mode; /* permission bits */
};

/* Is name safe and portable as an entry name (rules above, at most LCB_ARC_NAME_MAX bytes)?
 * Returns 0, or -1 with LCB_EUSAGE and the reason ("entry name \"../x\": \"..\" component"). */
int lcb_arc_name_check(const char *name, struct lcb_err *err);

struct lcb_arc_writer;

/* A new tar writer. Returns 0, or -1 (LCB_EINTERNAL). */
int lcb_arc_writer_new(struct lcb_arc_writer **out, lcb_arc_write_fn write, void *ud,
                       struct lcb_err *err);
/* Start an entry of exactly size bytes. Returns 0, or -1: LCB_EUSAGE (unsafe name, an entry still
 * open, negative size), or the write callback's error. */
int lcb_arc_writer_begin(struct lcb_arc_writer *w, const char *name, int64_t size, time_t mtime,
                         struct lcb_err *err);
/* Append entry data. Returns 0, or -1: LCB_EUSAGE (more than the declared size), or the
 * callback's error. */
int lcb_arc_writer_data(struct lcb_arc_writer *w, const void *data, size_t len,
                        struct lcb_err *err);
/* End the entry. Returns 0, or -1: LCB_EUSAGE (fewer bytes than declared), or the callback's. */
int lcb_arc_writer_end(struct lcb_arc_writer *w, struct lcb_err *err);
/* Write the end-of-archive blocks and flush. Returns 0 or -1. */
int lcb_arc_writer_close(struct lcb_arc_writer *w, struct lcb_err *err);
void lcb_arc_writer_free(struct lcb_arc_writer *w);

struct lcb_arc_reader;

/* A new tar reader pulling from read. Returns 0, or -1 (LCB_EINTERNAL). */
int lcb_arc_reader_new(struct lcb_arc_reader **out, lcb_arc_read_fn read, void *ud,
                       struct lcb_err *err);
/* The next entry's header into e (whatever data of the previous entry was not read is skipped).
 * Returns 1 with an entry, 0 at the end-of-archive marker, -1: LCB_ECORRUPT ("tar: ...": damaged
 * header, an unsafe name, a link, a device, a directory), or the callback's error. */
int lcb_arc_reader_next(struct lcb_arc_reader *r, struct lcb_arc_entry *e, struct lcb_err *err);
/* Up to cap bytes of the current entry's data; *got = 0 at the entry's end. Returns 0, or -1
 * (LCB_ECORRUPT: the stream ends inside the entry; or the callback's error). */
int lcb_arc_reader_data(struct lcb_arc_reader *r, void *buf, size_t cap, size_t *got,
                        struct lcb_err *err);
/* After next() returned 0: the bytes read past the end-of-archive marker that libarchive did not
 * consume (the rest of the last 10 KiB record: zeros in a sound archive). Borrowed until the next
 * call. Returns 0, or -1 when they cannot be told (then read the source's rest yourself). */
int lcb_arc_reader_tail(struct lcb_arc_reader *r, const void **data, size_t *len);
void lcb_arc_reader_free(struct lcb_arc_reader *r);

/* libarchive's version string. */
const char *lcb_arc_version(void);

#endif
