/*
 * sig.h - SIGINT/SIGTERM as a flag that long work polls, so that it can abort uploads, tear down
 * drill resources and mark the catalog before exiting with 130/143.
 */
#ifndef LCB_CORE_SIG_H
#define LCB_CORE_SIG_H

/* Install the handlers (main does it once). */
void lcb_sig_install(void);
/* The signal received (SIGINT, SIGTERM), or 0. */
int lcb_sig_pending(void);
/* For tests: pretend a signal arrived. */
void lcb_sig_raise(int signo);
/* Cleanup after a signal (aborting an upload, marking the catalog) must still reach the network:
 * between _hold and _unhold, lcb_sig_pending() reports only signals that arrive meanwhile (a second
 * Ctrl-C still interrupts a cleanup that hangs). Not nested. */
void lcb_sig_hold(void);
void lcb_sig_unhold(void);

#endif
