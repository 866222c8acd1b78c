/*
 * stub.h - start tests/unit/aws_stub.py on 127.0.0.1 for a unit test, talk to its control paths,
 * and stop it. The stub lives while its stdin is open, so it also dies with a crashed test.
 *
 *   if (stub_start() < 0) ... ; stub_ctl("POST", "/_script", "[{\"status\":503}]");
 *   snprintf(url, sizeof(url), "%s/echo", stub_base); ... ; stub_stop();
 */
#ifndef LCB_TEST_STUB_H
#define LCB_TEST_STUB_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/core/buf.h"
#include "../../lib/ext/http.h"

static pid_t stub_pid;
static int stub_stdin = -1;
static char stub_base[64];
static int stub_port;

static int
stub_start(void)
{
    int in[2], out[2];
    char line[32];
    FILE *f;

    if (pipe(in) < 0 || pipe(out) < 0)
        return -1;
    stub_pid = fork();
    if (stub_pid < 0)
        return -1;
    if (stub_pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execl("/usr/bin/python3", "python3", "tests/unit/aws_stub.py", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stub_stdin = in[1];
    f = fdopen(out[0], "r");
    if (!f || !fgets(line, sizeof(line), f)) {
        fprintf(stderr, "stub: no port (is python3-botocore installed?)\n");
        return -1;
    }
    fclose(f);
    stub_port = atoi(line);
    snprintf(stub_base, sizeof(stub_base), "http://127.0.0.1:%d", stub_port);
    return 0;
}

static void
stub_stop(void)
{
    if (stub_stdin >= 0) {
        close(stub_stdin);
        stub_stdin = -1;
    }
    if (stub_pid > 0) {
        kill(stub_pid, SIGTERM);
        waitpid(stub_pid, NULL, 0);
        stub_pid = 0;
    }
}

/* A control call; returns the HTTP status (0 on failure); the answer's body goes to out (may be
 * NULL). */
static int
stub_ctl(const char *method, const char *path, const char *json, struct lcb_buf *out)
{
    struct lcb_http *h = NULL;
    struct lcb_http_req req;
    struct lcb_http_resp resp;
    struct lcb_err err;
    char url[256];
    int status = 0;

    snprintf(url, sizeof(url), "%s%s", stub_base, path);
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = url;
    req.body = json;
    req.body_len = json ? strlen(json) : 0;
    lcb_http_resp_init(&resp);
    if (lcb_http_new(&h, NULL, &err) == 0 && lcb_http_send(h, &req, &resp, &err) == 0) {
        status = resp.status;
        if (out)
            lcb_buf_add(out, resp.body.ptr ? resp.body.ptr : "", resp.body.len);
    }
    lcb_http_resp_release(&resp);
    lcb_http_free(h);
    return status;
}

#endif
