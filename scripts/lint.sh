#!/bin/sh
# make lint: formatting drift (clang-format), static analysis (cppcheck), and the longest and most
# complex functions (pmccabe), as curl's CI lists them. Informational where a tool is missing.
set -u
cd "$(dirname "$0")/.."
status=0
files=$(ls cmd/*.c lib/*/*.c lib/*/*.h cmd/*.h 2>/dev/null)
if command -v clang-format >/dev/null; then
    n=0
    for f in $files; do
        clang-format --dry-run "$f" 2>&1 | grep -q warning && n=$((n + 1))
    done
    echo "lint: clang-format: $n files differ from .clang-format (informational)"
fi
if command -v cppcheck >/dev/null; then
    # shellcheck disable=SC2086
    cppcheck -q --std=c11 --enable=warning,portability --inline-suppr --error-exitcode=1 \
        -I lib $files 2>&1 || status=1
    echo "lint: cppcheck: $([ $status -eq 0 ] && echo clean || echo problems above)"
fi
if command -v pmccabe >/dev/null; then
    echo "lint: the 10 most complex functions (complexity, statements, lines, place):"
    # shellcheck disable=SC2086
    pmccabe -v $(ls cmd/*.c lib/*/*.c) 2>/dev/null | sort -nr | head -10 | awk '{print "  " $1, $3, $5, $6, $7}'
else
    echo "lint: pmccabe not installed (apt-get install pmccabe) for function complexity"
fi
exit $status
