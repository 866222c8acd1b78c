/* tmp.c - see tmp.h. */
#include "tmp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "mem.h"

const char *
lcb_tmp_dir(void)
{
    const char *dir = getenv("TMPDIR");

    return dir && *dir ? dir : "/tmp";
}

int
lcb_tmp_open(const char *dir, const char *what)
{
    char *path = lcb_xasprintf("%s/lcbackup-%s-XXXXXX", dir ? dir : lcb_tmp_dir(), what);
    int fd = mkostemp(path, O_CLOEXEC), e;

    if (fd >= 0 && unlink(path) < 0) {
        e = errno;
        close(fd);
        fd = -1;
        errno = e;
    }
    free(path);
    return fd;
}
