# Sourced by .ci/run: a throwaway PostgreSQL cluster on loopback for the tests, stopped and
# removed when the script exits. Exports TUTOR_TEST_POSTGRES_URL (a superuser URL: the tests
# create and drop a database per test). Installs Debian's postgresql when missing.

start_test_postgres() {
    local sudo="" bin dir port as_pg=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null && sudo="sudo -n"
    fi
    if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
        echo "==> installing PostgreSQL for the database tests"
        $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql \
            || return 1
    fi
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    dir=$(mktemp -d)
    if [ "$(id -u)" -eq 0 ]; then  # the server refuses to run as root
        chown postgres "$dir"
        as_pg=(runuser -u postgres --)
    fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >/dev/null || return 1
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-h 127.0.0.1 -p $port -k $dir -F" start >/dev/null || return 1
    # shellcheck disable=SC2064 # expand now: these are this cluster's paths
    trap "${as_pg[*]} $bin/pg_ctl -D $dir/data -m immediate stop >/dev/null; rm -rf $dir" EXIT
    export TUTOR_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
    echo "==> PostgreSQL for the tests at $TUTOR_TEST_POSTGRES_URL"
}
