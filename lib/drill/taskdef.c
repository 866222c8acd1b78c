/* taskdef.c - would a RegisterTaskDefinition request be accepted? The rules AWS documents for
 * the request (and lcsim enforces); see component.h. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../aws/ecs.h"
#include "../ext/json.h"
#include "component.h"

/* Record one problem (a line); returns 1 so that callers can count. */
static int problem(struct lcb_buf *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
problem(struct lcb_buf *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    lcb_buf_vaddf(p, fmt, ap);
    va_end(ap);
    lcb_buf_addch(p, '\n');
    return 1;
}

static int
name_ok(const char *s)
{
    size_t n = 0;

    for (; s && *s; s++, n++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
            return 0;
    return n >= 1 && n <= 255;
}

/* "1024", "1 vCPU", "0.5 vcpu" -> CPU units; "2048", "2 GB" -> MiB. -1 when unreadable. */
static long
units(const struct lcb_json *v, int cpu)
{
    const char *s = lcb_json_str(v);
    char *end;
    double x;

    if (lcb_json_type(v) == LCB_JSON_NUMBER)
        return (long)lcb_json_num(v, -1);
    if (!s)
        return -1;
    x = strtod(s, &end);
    if (end == s)
        return -1;
    while (*end == ' ')
        end++;
    if (*end == '\0')
        return (long)x;
    if ((cpu && strcasecmp(end, "vcpu") == 0) || (!cpu && strcasecmp(end, "gb") == 0))
        return (long)(x * 1024);
    return -1;
}

static int
fargate_ok(long cpu, long mem)
{
    static const struct {
        long cpu, lo, hi, step;
    } sizes[] = {
        {256, 512, 2048, 512},        {512, 1024, 4096, 1024},   {1024, 2048, 8192, 1024},
        {2048, 4096, 16384, 1024},    {4096, 8192, 30720, 1024}, {8192, 16384, 61440, 4096},
        {16384, 32768, 122880, 8192},
    };
    size_t i;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        if (cpu == sizes[i].cpu)
            return mem >= sizes[i].lo && mem <= sizes[i].hi &&
                   (mem == 512 || (mem - sizes[i].lo) % sizes[i].step == 0);
    return 0;
}

static int
has(const struct lcb_json *arr, const char *s)
{
    const struct lcb_json *e;

    for (e = lcb_json_child(arr); e; e = lcb_json_next(e))
        if (lcb_json_str(e) && strcmp(lcb_json_str(e), s) == 0)
            return 1;
    return 0;
}

static int
container_problems(const struct lcb_json *c, size_t i, struct lcb_buf *p)
{
    const char *name = lcb_json_get_str(c, "name");
    const struct lcb_json *pm, *rc = lcb_json_get(c, "repositoryCredentials");
    int n = 0;

    if (!name_ok(name))
        n += problem(p,
                     "containerDefinitions[%zu].name '%s': up to 255 letters, digits, "
                     "hyphens and underscores",
                     i, name ? name : "");
    if (!lcb_json_get_str(c, "image") || !*lcb_json_get_str(c, "image"))
        n += problem(p, "container %s: no image", name ? name : "?");
    if (rc && (!lcb_json_get_str(rc, "credentialsParameter") ||
               !*lcb_json_get_str(rc, "credentialsParameter")))
        n += problem(p,
                     "container %s: repositoryCredentials without a "
                     "credentialsParameter",
                     name ? name : "?");
    for (pm = lcb_json_child(lcb_json_get(c, "portMappings")); pm; pm = lcb_json_next(pm))
        if (!lcb_json_get(pm, "containerPort"))
            n +=
                problem(p, "container %s: a port mapping without containerPort", name ? name : "?");
    return n;
}

static int
containers_problems(const struct lcb_json *req, struct lcb_buf *p)
{
    const struct lcb_json *conts = lcb_json_get(req, "containerDefinitions"), *c, *d;
    size_t i = 0, j;
    int n = 0;

    if (lcb_json_type(conts) != LCB_JSON_ARRAY || lcb_json_size(conts) == 0)
        return problem(p, "containerDefinitions: empty (the container list cannot be "
                          "empty)");
    for (c = lcb_json_child(conts); c; c = lcb_json_next(c), i++) {
        n += container_problems(c, i, p);
        for (j = 0, d = lcb_json_child(conts); d && j < i; d = lcb_json_next(d), j++)
            if (lcb_json_get_str(c, "name") && lcb_json_get_str(d, "name") &&
                strcmp(lcb_json_get_str(c, "name"), lcb_json_get_str(d, "name")) == 0)
                n += problem(p, "container name %s is used twice", lcb_json_get_str(c, "name"));
    }
    return n;
}

static int
tags_problems(const struct lcb_json *req, struct lcb_buf *p)
{
    const struct lcb_json *tags = lcb_json_get(req, "tags"), *t;
    int n = 0;

    if (!tags)
        return 0;
    if (lcb_json_type(tags) != LCB_JSON_ARRAY || lcb_json_size(tags) == 0)
        return problem(p, "tags: present but empty (\"Tags can not be empty\")");
    if (lcb_json_size(tags) > 50)
        n += problem(p, "tags: more than 50");
    for (t = lcb_json_child(tags); t; t = lcb_json_next(t)) {
        const char *k = lcb_json_get_str(t, "key");
        if (!k || !*k || strlen(k) > 128 || strncasecmp(k, "aws:", 4) == 0)
            n += problem(p, "tag key '%s' is empty, too long or reserved (aws:)", k ? k : "");
    }
    return n;
}

static int
sizes_problems(const struct lcb_json *req, struct lcb_buf *p)
{
    const struct lcb_json *cpu = lcb_json_get(req, "cpu"), *mem = lcb_json_get(req, "memory");
    const char *mode = lcb_json_get_str(req, "networkMode");
    long c = cpu ? units(cpu, 1) : 0, m = mem ? units(mem, 0) : 0;
    int n = 0;

    if (mode && strcmp(mode, "bridge") != 0 && strcmp(mode, "host") != 0 &&
        strcmp(mode, "awsvpc") != 0 && strcmp(mode, "none") != 0)
        n += problem(p, "networkMode '%s' is not bridge, host, awsvpc or none", mode);
    if (c < 0)
        n += problem(p, "cpu: not a number of CPU units or vCPUs");
    if (m < 0)
        n += problem(p, "memory: not MiB or GB");
    if (!has(lcb_json_get(req, "requiresCompatibilities"), "FARGATE"))
        return n;
    if (!mode || strcmp(mode, "awsvpc") != 0)
        n += problem(p, "Fargate only supports network mode awsvpc");
    if (!cpu || !mem)
        n += problem(p, "Fargate needs cpu and memory at the task level");
    else if (c > 0 && m > 0 && !fargate_ok(c, m))
        n += problem(p, "no Fargate size has %ld CPU units with %ld MiB", c, m);
    return n;
}

static int
awslogs_problems(const struct lcb_json *req, struct lcb_buf *p)
{
    const struct lcb_json *c;

    if (!has(lcb_json_get(req, "requiresCompatibilities"), "FARGATE") ||
        lcb_json_get_str(req, "executionRoleArn"))
        return 0;
    for (c = lcb_json_child(lcb_json_get(req, "containerDefinitions")); c; c = lcb_json_next(c)) {
        const char *d = lcb_json_get_str(lcb_json_get(c, "logConfiguration"), "logDriver");
        if (d && strcmp(d, "awslogs") == 0)
            return problem(p, "Fargate with the awslogs driver needs an "
                              "executionRoleArn");
    }
    return 0;
}

int
lcb_drill_taskdef_problems(const struct lcb_json *req, struct lcb_buf *problems)
{
    const char *family = lcb_json_get_str(req, "family");
    size_t i;
    int n = 0;

    if (lcb_json_type(req) != LCB_JSON_OBJECT)
        return problem(problems, "not a JSON object");
    if (!name_ok(family))
        n += problem(problems,
                     "family '%s': up to 255 letters, digits, hyphens and "
                     "underscores",
                     family ? family : "");
    for (i = 0; lcb_ecs_taskdef_read_only[i]; i++)
        if (lcb_json_get(req, lcb_ecs_taskdef_read_only[i]))
            n += problem(problems, "%s is read-only (RegisterTaskDefinition refuses it)",
                         lcb_ecs_taskdef_read_only[i]);
    n += containers_problems(req, problems);
    n += tags_problems(req, problems);
    n += sizes_problems(req, problems);
    n += awslogs_problems(req, problems);
    return n;
}
