/* sig.c - see sig.h. */
#define _POSIX_C_SOURCE 200809L
#include "sig.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t pending;

static void
on_signal(int signo)
{
    pending = signo;
}

void
lcb_sig_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int
lcb_sig_pending(void)
{
    return pending;
}

void
lcb_sig_raise(int signo)
{
    pending = signo;
}
