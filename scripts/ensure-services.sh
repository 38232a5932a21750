#!/usr/bin/env bash
# Make sure the PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) that the tests use answer.
#
#   scripts/ensure-services.sh [postgres] [redis]     (no argument: both)
#
# A service that already answers is left alone. One that is installed but stopped is started
# (PostgreSQL through its Debian cluster tools, Redis as a throwaway daemon without persistence)
# and waited for, up to 30 s. One that is not installed stops the script with a message saying
# what is missing. Exits 0 only when every requested service answers.
set -euo pipefail

readonly HOST=127.0.0.1
readonly PG_PORT=5432
readonly REDIS_PORT=6379
readonly WAIT_SECONDS=30

have() { command -v "$1" >/dev/null 2>&1; }

say() { printf 'ensure-services: %s\n' "$*"; }

fail() {
    printf 'ensure-services: %s\n' "$*" >&2
    exit 1
}

# True when something accepts a TCP connection on $1:$2. The fallback when the client tools are
# missing; bash's /dev/tcp needs no other program. `timeout` guards against a port that drops
# packets instead of refusing.
tcp_open() {
    if have timeout; then
        timeout 3 bash -c ': <>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
    else
        bash -c ': <>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
    fi
}

postgres_answers() {
    if have pg_isready; then
        pg_isready -q -h "$HOST" -p "$PG_PORT"
    else
        tcp_open "$HOST" "$PG_PORT"
    fi
}

redis_answers() {
    if have redis-cli; then
        [[ "$(redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
    else
        tcp_open "$HOST" "$REDIS_PORT"
    fi
}

# wait_for NAME CHECK_FUNCTION HINT: poll once a second until CHECK_FUNCTION succeeds.
wait_for() {
    local name=$1 check=$2 hint=$3 waited=0
    until "$check"; do
        if (( waited >= WAIT_SECONDS )); then
            fail "$name was started but does not answer after ${WAIT_SECONDS} s; see $hint"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    say "$name answers on $HOST after ${waited} s"
}

ensure_postgres() {
    if postgres_answers; then
        say "PostgreSQL already answers on $HOST:$PG_PORT"
        return
    fi
    local version=""
    if [[ -d /etc/postgresql ]]; then
        # Newest installed major version, should there be more than one.
        version=$(ls /etc/postgresql | sort -V | tail -n 1)
    fi
    if ! have pg_ctlcluster || [[ -z "$version" ]]; then
        fail "PostgreSQL is not installed and nothing answers on $HOST:$PG_PORT:" \
             "install postgresql or point VERDICTS_TEST_DATABASE_URL at a server"
    fi
    if [[ ! -d "/etc/postgresql/$version/main" ]]; then
        fail "PostgreSQL $version is installed but has no 'main' cluster:" \
             "create one with 'pg_createcluster $version main'"
    fi
    say "PostgreSQL $version/main is not answering; starting it"
    # --skip-systemctl-redirect: start the cluster directly, also where systemd is not PID 1.
    pg_ctlcluster --skip-systemctl-redirect "$version" main start \
        || fail "pg_ctlcluster could not start PostgreSQL $version/main (see its output above;" \
                "starting a cluster needs root or the postgres user)"
    wait_for PostgreSQL postgres_answers "/var/log/postgresql/postgresql-$version-main.log"
}

ensure_redis() {
    if redis_answers; then
        say "Redis already answers on $HOST:$REDIS_PORT"
        return
    fi
    if ! have redis-server; then
        fail "Redis is not installed and nothing answers on $HOST:$REDIS_PORT:" \
             "install redis-server or start a Redis there"
    fi
    say "Redis is not answering; starting redis-server"
    mkdir -p /var/lib/redis /var/log/redis
    # Tests need no persistence: no RDB snapshots, no append-only file.
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
        --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log \
        || fail "could not start redis-server; see /var/log/redis/ci.log"
    wait_for Redis redis_answers /var/log/redis/ci.log
}

main() {
    local wanted=("$@")
    (( ${#wanted[@]} )) || wanted=(postgres redis)
    local service
    for service in "${wanted[@]}"; do
        case "$service" in
            postgres) ensure_postgres ;;
            redis) ensure_redis ;;
            *) fail "unknown service '$service' (expected: postgres, redis)" ;;
        esac
    done
}

main "$@"
