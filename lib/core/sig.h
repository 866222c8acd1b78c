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

#endif
