# snaplib.sh - helpers for the RDS/EBS scripts (t10xx, t12xx, t20xx, t22xx), sourced after lib.sh:
# a policy for the simulated LegoCity, psql on the simulator's PostgreSQL clusters, and AWS
# described with botocore (not through lcbackup, so what lcbackup did is checked independently).

PSQL=/usr/lib/postgresql/15/bin/psql
SRC=legocity-payload-db

# write_policy FILE [production]: env prod as the RDS seed publishes it, DR region eu-central-1.
write_policy() {
    cat > "$1" <<EOF
{
  "version": 1, "env": "prod", "production": ${2:-false},
  "region": "eu-west-1", "dr_region": "eu-central-1",
  "storage": { "bucket": "legocity-backups-prod", "kms_key": "alias/legocity-backups",
               "dr_kms_key": "alias/legocity-backups" },
  "defaults": { "schedule": "@daily", "retention": { "keep_last": 3 } },
  "targets": {
    "rds": [ { "instance": "$SRC", "db_url_param": "/legocity/prod/payload/db-url", "copy_to_dr": true } ],
    "ebs": [ { "name": "broker-data", "tags": { "Name": "legocity-broker-data" }, "copy_to_dr": true } ]
  }
}
EOF
}

# seed KEY: a value of the RDS seed (password, port, username...)
seed() { "$PY" -c "import json; print(json.load(open('$LCSIM_STATE/rds/seed.json'))['$1'])"; }

# pg_port INSTANCE [REGION]: the simulator cluster's port
pg_port() {
    sim_ctl GET "/rds/instances?region=${2:-eu-west-1}" | "$PY" -c "
import json, sys
print(''.join(str(i['port']) for i in json.load(sys.stdin)['instances'] if i['id'] == '$1'))"
}

# pgq PORT SQL: one query through libpq (psql), unaligned, no headers
pgq() {
    PGPASSWORD=$(seed password) PGCONNECT_TIMEOUT=10 "$PSQL" -X -A -t -q -h 127.0.0.1 -p "$1" \
        -U "$(seed username)" -d payload -c "$2"
}

# table_counts PORT: "schema.table rows" for every user table, sorted (what a fingerprint counts),
# in one query
table_counts() {
    pgq "$1" "SELECT format('%s.%s %s', schemaname, relname,
                     (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I',
                                                                 schemaname, relname),
                                                          false, true, '')))[1]::text)
              FROM pg_stat_user_tables ORDER BY 1"
}

# boto SERVICE REGION EXPR: evaluate a Python expression with `c` a botocore client (sim env)
boto() {
    "$PY" - "$1" "$2" "$3" <<'EOF'
import json, os, sys
import botocore.session
svc, region, expr = sys.argv[1:4]
c = botocore.session.get_session().create_client(svc, region_name=region,
                                                  endpoint_url=os.environ["AWS_ENDPOINT_URL"])
try:
    r = eval(expr)
except c.exceptions.ClientError as e:
    r = "error:" + e.response["Error"]["Code"]
except Exception as e:  # modeled exceptions are ClientError subclasses; others: report
    r = "error:" + getattr(e, "response", {}).get("Error", {}).get("Code", type(e).__name__)
print(r if isinstance(r, str) else json.dumps(r, default=str, sort_keys=True))
EOF
}

# rds_tag REGION SNAPSHOT KEY: a tag of a DB snapshot
rds_tag() {
    boto rds "$1" "{t['Key']: t['Value'] for t in c.describe_db_snapshots(DBSnapshotIdentifier='$2')['DBSnapshots'][0]['TagList']}.get('$3', '')"
}

# count_ops SERVICE OPERATION [REGION]: requests of that operation in the simulator's log
count_ops() {
    sim_ctl GET "/requests?service=$1&operation=$2${3:+&region=$3}" | grep -c '"operation"'
}

# content_sha KIND ID [REGION]: sha256 of an EBS volume's or snapshot's data (content hooks)
content_sha() {
    sim_ctl GET "/ec2/$1/$2/content?region=${3:-eu-west-1}" |
        "$PY" -c "import json, sys; print(json.load(sys.stdin)['sha256'])"
}

# no_secret NAME FILE...: the seed's database password appears in none of the files
no_secret() {
    _name=$1; shift
    _pw=$(seed password)
    if grep -q -- "$_pw" "$@" 2>/dev/null; then fail "$_name" "the password appears"; else pass "$_name"; fi
}

# ebs_setup: the simulator seeded with LegoCity, EBS operations slowed a little (so that waits are
# seen), the production policy in $P, and the seeded volumes and instance in VOL, ROOTVOL, INST.
ebs_setup() {
    sim_up --seed legocity
    sim_ctl POST /delays '{"ebs.snapshot": 0.5, "ebs.snapshot_copy": 0.5, "ebs.volume": 0.3}' >/dev/null
    P=$T/prod.json
    write_policy "$P"
    VOL=$(sim_ctl GET /ec2/seed | jq -r .data_volume_id)
    ROOTVOL=$(sim_ctl GET /ec2/seed | jq -r .root_volume_id)
    INST=$(sim_ctl GET /ec2/seed | jq -r .instance_id)
}
