#!/usr/bin/env bash
# Writes the secret files docker-compose.yml mounts (compose secrets, never argv or Env):
#
#   redis_password        the Redis password (hex: safe in a URL and in redis.conf)
#   redis.conf            `requirepass` for redis-server, read as its config file
#   dockfleet_redis_url   DOCKFLEET_REDIS_URL of the dockfleet services (settings read it
#                         from /run/secrets, DOCKFLEET_SECRETS_DIR's default)
#   flower_basic_auth     Flower's user:password
#
# Usage: scripts/compose-secrets.sh [DIR]   (DIR: $DOCKFLEET_SECRETS, else ./secrets)
#
# Existing files are kept (a rerun changes nothing), so the password survives upgrades;
# delete redis_password to rotate it, then `docker compose up -d` to restart with it.
# The folder is 0700 (no other user of this machine reads it); the files in it are 0644
# because compose bind-mounts them and the services run as other users (redis, nobody).
set -euo pipefail

dir=${1:-${DOCKFLEET_SECRETS:-./secrets}}
mkdir -p "$dir"
chmod 0700 "$dir"
# So that `git add -A` in a checkout never takes them.
[ -e "$dir/.gitignore" ] || echo '*' >"$dir/.gitignore"

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

write() { # write NAME CONTENT: the file, 0644, replaced in one step
  local tmp
  tmp=$(mktemp "$dir/.$1.XXXXXX")
  printf '%s\n' "$2" >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$dir/$1"
}

[ -s "$dir/redis_password" ] || write redis_password "$(random_hex 16)"
password=$(tr -d '\n' <"$dir/redis_password")
case $password in
  *[!A-Za-z0-9._~-]*) echo "$dir/redis_password: use letters, digits and ._~- only (it goes into a URL)" >&2; exit 1 ;;
esac
write redis.conf "requirepass $password"
write dockfleet_redis_url "redis://:$password@redis:6379/0"
[ -s "$dir/flower_basic_auth" ] || write flower_basic_auth "admin:$(random_hex 12)"
echo "$dir"
