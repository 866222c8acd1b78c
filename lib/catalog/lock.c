/* lock.c - the catalog lock: flock() on <catalog>.lock, which also names its holder. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mem.h"
#include "../core/sig.h"
#include "catalog.h"
#include "internal.h"

static void
describe_holder(int fd, char *out, size_t size)
{
    ssize_t n;

    n = pread(fd, out, size - 1, 0);
    if (n <= 0) {
        snprintf(out, size, "unknown holder");
        return;
    }
    out[n] = '\0';
    out[strcspn(out, "\n")] = '\0';
}

static void
write_holder(int fd, const char *command)
{
    char host[256], line[512], ts[LCB_TIME_LEN];
    int n;

    gethostname(host, sizeof(host));
    host[sizeof(host) - 1] = '\0';
    n = snprintf(line, sizeof(line), "pid %ld on %s running '%s' since %s\n", (long)getpid(), host,
                 command, lcb_time_fmt(lcb_now(), ts));
    if (ftruncate(fd, 0) == 0 && n > 0)
        (void)!pwrite(fd, line, (size_t)n, 0);
}

int
lcb_catalog_lock(struct lcb_catalog *cat, const char *command, int64_t timeout, struct lcb_err *err)
{
    char *path = lcb_xasprintf("%s.lock", lcb_catalog_path(cat));
    int64_t deadline = lcb_mono_ms() + timeout * 1000;
    char holder[512];
    int fd, waited = 0;

    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        lcb_err_sys(err, LCB_EIO, errno, "open lock file '%s'", path);
        free(path);
        return -1;
    }
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            lcb_err_sys(err, LCB_EIO, errno, "lock '%s'", path);
            goto fail;
        }
        describe_holder(fd, holder, sizeof(holder));
        if (lcb_mono_ms() >= deadline || lcb_sig_pending()) {
            lcb_err_set(err, LCB_ELOCKED,
                        "the catalog is locked by %s; wait for it, or retry with --lock-timeout",
                        holder);
            goto fail;
        }
        if (!waited++)
            lcb_log(LCB_INFO, "catalog.lock.wait", "waiting for the catalog lock held by %s",
                    holder);
        usleep(100 * 1000);
    }
    write_holder(fd, command);
    cat_set_lock_fd(cat, fd);
    free(path);
    return 0;
fail:
    close(fd);
    free(path);
    return -1;
}
