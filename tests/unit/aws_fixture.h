/*
 * aws_fixture.h - load an answer fixture from tests/fixtures/aws/ for the AWS protocol unit tests
 * (xml, query, jsonrpc, s3). Tests run from the repository root (make unit); LCB_FIXTURES overrides.
 */
#ifndef LCB_TEST_AWS_FIXTURE_H
#define LCB_TEST_AWS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "../../lib/core/buf.h"

/* Read the fixture into b (replacing its content). Returns 0, or -1 (and says why on stderr). */
__attribute__((unused)) static int
fixture_load(struct lcb_buf *b, const char *name)
{
    const char *dir = getenv("LCB_FIXTURES");
    char path[512], chunk[4096];
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures/aws", name);
    lcb_buf_reset(b);
    if (!(f = fopen(path, "rb"))) {
        fprintf(stderr, "  cannot open fixture %s\n", path);
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        lcb_buf_add(b, chunk, n);
    fclose(f);
    return 0;
}

#endif
