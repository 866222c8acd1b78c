#!/bin/sh
# make demo: the whole LegoCity story against the local simulated cloud (tests/sim), step by step.
# Each step prints what it does and runs the real lcbackup binary exactly as an engineer would.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LCB="$ROOT/build/lcbackup"
DEMO=${DEMO_DIR:-$ROOT/build/demo}
PY=/usr/bin/python3

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
has() { "$LCB" --help 2>/dev/null | grep -q "^  $1 "; }
# Debian's AWS CLI ignores AWS_ENDPOINT_URL: point it at the simulator explicitly.
aws() { /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

rm -rf "$DEMO"; mkdir -p "$DEMO"
step "Start the simulated LegoCity cloud (S3, STS, KMS, RDS on real PostgreSQL, EC2/EBS, SSM, ECS, an NGSI-LD broker)"
# sizes env=dev: the seeded database publishes its URL under /legocity/dev/, as policies/demo.json reads
show "$PY" "$ROOT/tests/sim/lcsim" up --state "$DEMO/sim" --seed legocity --sizes env=dev
trap '"$PY" "$ROOT/tests/sim/lcsim" down --state "$DEMO/sim" >/dev/null 2>&1 || true' EXIT
set -a; . "$DEMO/sim/env"; set +a
export LCBACKUP_CATALOG="$DEMO/catalog.db" LCBACKUP_POLICY="$ROOT/policies/demo.json"

step "Check the policy and see when each target is due"
show "$LCB" policy check "$LCBACKUP_POLICY"
show "$LCB" policy show --count 2 "$LCBACKUP_POLICY" | tail -n 14

if has doctor; then
    step "Doctor: credentials, identity, endpoints, clock, catalog"
    show "$LCB" doctor || true
fi

step "The catalog"
show "$LCB" catalog migrate
show "$LCB" catalog check

if has presign; then
    step "Presign: hand an object to someone without AWS credentials"
    echo "hello from the demo" > "$DEMO/hello.txt"
    aws s3 cp "$DEMO/hello.txt" s3://legocity-backups-dev/demo/hello.txt >/dev/null
    echo "$ lcbackup presign s3://legocity-backups-dev/demo/hello.txt --expires 300"
    url=$("$LCB" presign s3://legocity-backups-dev/demo/hello.txt --expires 300)
    echo "$url"
    printf 'curl says: '; curl -s "$url"
fi

if has "backup broker"; then
    step "Export every broker entity into a zstd tar archive in S3"
    show "$LCB" backup broker
    id=$("$LCB" list --kind broker --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
    loc=$("$LCB" show --json "$id" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["location"])')
    step "Read the archive without lcbackup: aws s3 cp ... - | tar --zstd -t"
    printf '$ aws s3 cp %s - | tar --zstd -t | head -5\n' "$loc"
    aws s3 cp "$loc" - | tar --zstd -t | head -5
    step "Verify the archive end to end (zstd checksums, tar, every entry's SHA-256)"
    show "$LCB" verify "$id"
    step "What a restore of the streetlights would send (--dry-run: nothing is sent)"
    printf '$ %s restore broker --dry-run --tenant demo-restore --types Streetlight %s | tail -n 4\n' \
        "$LCB" "$id"
    "$LCB" restore broker --dry-run --tenant demo-restore --types Streetlight "$id" | tail -n 4
    step "Restore it into a scratch tenant and compare every entity"
    show "$LCB" restore broker --tenant demo-restore --verify "$id"
fi

if has "backup rds"; then
    step "Snapshot the PayloadCMS database (fingerprint first), copy it to the DR region"
    show "$LCB" backup rds
    step "Snapshot the broker's EBS volume, copy it to the DR region"
    show "$LCB" backup ebs
    step "What a database restore would do (nothing is touched with --dry-run)"
    rds_id=$("$LCB" list --kind rds --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
    show "$LCB" restore rds --backup "$rds_id" --target legocity-payload-db-restored --dry-run
fi

if has "backup config"; then
    step "Export SSM parameters and ECS services (SecureStrings encrypted under a KMS data key)"
    show "$LCB" backup config
    cfg_id=$("$LCB" list --kind config --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
    step "Change a parameter, then see the drift against the backup"
    aws ssm put-parameter --name /legocity/dev/features/flags/map-v2 --type String --value false --overwrite >/dev/null
    show "$LCB" diff config "$cfg_id" || true
    step "Put the configuration back (dry run first, then for real)"
    show "$LCB" restore ssm "$cfg_id" --dry-run
    show "$LCB" restore ssm "$cfg_id"
fi

if has run; then
    step "What cron runs: back up what is due, expire, publish the catalog to S3"
    show "$LCB" schedule --format crontab
    show "$LCB" run --dry-run
    step "Retention: why each backup is kept"
    show "$LCB" expire --explain --dry-run
fi

step "Everything the catalog knows"
show "$LCB" list
show "$LCB" catalog check

if has drill; then
    kinds=$("$LCB" list --json | "$PY" -c 'import json,sys; print(",".join(sorted({b["kind"] for b in json.load(sys.stdin) if b["status"] == "completed"})))')
    if [ -n "$kinds" ]; then
        step "Drill: restore the latest backups ($kinds) into throwaway resources, check them, measure RTO/RPO, tear down"
        show "$LCB" drill --component "$kinds" || echo "(the drill did not pass: its report says why)"
        step "The drill report: one HTML file with its charts for an auditor, also kept in S3 beside the backups"
        show "$LCB" report --last --format html --output "$DEMO/drill-report.html" --upload
        echo "drill report: $DEMO/drill-report.html (open it in a browser)"
    fi
fi

step "Done. The catalog is $LCBACKUP_CATALOG"
