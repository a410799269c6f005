#!/usr/bin/env bash
# Entry point of the rabbitmq container in docker-compose.yml: writes the users and permissions of
# rabbitmq/definitions.sh (passwords from .env, stored hashed) to a tmpfs, where the broker imports
# them at boot (rabbitmq/market.conf), then hands over to the image's own entry point. The import
# runs at every start, so changing a password in .env and restarting the broker rotates it.
set -euo pipefail

for variable in API_GATEWAY_RABBITMQ_PASSWORD USERS_RABBITMQ_PASSWORD LISTINGS_RABBITMQ_PASSWORD ORDERS_RABBITMQ_PASSWORD PAYMENTS_RABBITMQ_PASSWORD; do
  if [[ "${!variable:-}" == change-me* ]]; then
    echo "rabbitmq: $variable still holds the .env.example placeholder; set a real password in .env" >&2
    exit 1
  fi
done

definitions=/run/market-rabbitmq/definitions.json
umask 077
bash /etc/rabbitmq/market/definitions.sh > "$definitions"
# Started as root: the image's entry point drops to the rabbitmq user, which must read the file.
if [[ "$(id -u)" == 0 ]]; then chown rabbitmq:rabbitmq "$definitions"; fi
exec docker-entrypoint.sh "$@"
