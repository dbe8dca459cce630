# shellcheck shell=bash
# Start (and on a fresh machine install) what the tests talk to. Needs root for apt-get.

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

apt_install() {
  if [ ! -f /tmp/.bylab-apt-updated ]; then
    as_root apt-get update -qq && touch /tmp/.bylab-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "starting PostgreSQL…" >&2
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  # The tests connect as the postgres role over TCP; trust auth on this machine kind.
  pg_isready -h 127.0.0.1 -p 5432 -q || { echo "PostgreSQL did not start" >&2; exit 1; }
}

ensure_mosquitto() {
  command -v mosquitto >/dev/null || apt_install mosquitto
  if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
    echo "starting Mosquitto…" >&2
    as_root mosquitto -d -c /etc/mosquitto/mosquitto.conf
  fi
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] || { echo "installing Debian's chromium…" >&2; apt_install chromium; }
  command -v pdftotext >/dev/null || apt_install poppler-utils
}

ensure_java() {
  # pyspark (the Spark equality test of the indicator engine) needs a Java 17+ runtime.
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
}

ensure_pdf_libraries() {
  # WeasyPrint (the PDF city profile) draws text with Pango.
  ldconfig -p | grep -q libpangoft2-1.0 || apt_install libpango-1.0-0 libpangoft2-1.0-0
}
