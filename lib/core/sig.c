/* sig.c - see sig.h. */
#define _POSIX_C_SOURCE 200809L
#include "sig.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t pending, received, held;
static sig_atomic_t received_at_hold;

static void
on_signal(int signo)
{
    pending = signo;
    received++;
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
    if (held && received == received_at_hold)
        return 0;
    return pending;
}

void
lcb_sig_hold(void)
{
    received_at_hold = received;
    held = 1;
}

void
lcb_sig_unhold(void)
{
    held = 0;
}

void
lcb_sig_raise(int signo)
{
    pending = signo;
}
