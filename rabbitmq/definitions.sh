#!/usr/bin/env bash
# Prints RabbitMQ definitions (https://www.rabbitmq.com/docs/definitions) that give each market
# process its own user with the least permissions it needs, in vhost "/". No guest, no admin.
#
#   BUS_PREFIX=market API_GATEWAY_RABBITMQ_PASSWORD=… USERS_RABBITMQ_PASSWORD=… \
#   LISTINGS_RABBITMQ_PASSWORD=… ORDERS_RABBITMQ_PASSWORD=… PAYMENTS_RABBITMQ_PASSWORD=… \
#     bash rabbitmq/definitions.sh > definitions.json
#
# docker-compose.yml runs it at every start of the broker (rabbitmq/entrypoint.sh), so the
# passwords come from .env and never sit in the repository or the data volume. For a managed
# broker, run it once and import the file (`rabbitmqctl import_definitions`, or POST /api/definitions).
#
# Passwords are stored the way RabbitMQ stores them (rabbit_password_hashing_sha256): a random
# 4-byte salt, then base64(salt ++ SHA-256(salt ++ UTF-8 password)). Needs bash and openssl.
#
# What each user may do (https://www.rabbitmq.com/docs/access-control#authorisation):
#   configure  declare (and so delete) a queue or exchange
#   write      publish to an exchange; bind a queue (write on the queue); name an exchange as a
#              queue's dead-letter exchange
#   read       consume from a queue; bind a queue to an exchange (read on the exchange); declare a
#              queue with a dead-letter exchange (read on the queue)
# Topic permissions on <prefix>.events limit the routing keys a user may publish (write: only the
# events its service owns, e.g. listing.*) and bind (read: only the events it consumes).
#
# What the broker cannot narrow: RPC requests and replies go through the default exchange, and write
# on amq.default reaches every queue by name; every process declares <prefix>.events and
# <prefix>.dead-letter, so it may also delete them, and reads the dead-letter queue (it has the name
# of the exchange every process binds it to). That is why every message is signed: the broker
# bounds what a leaked password can do, the signatures decide what a service acts on.
set -euo pipefail

prefix="${BUS_PREFIX:-market}"
if [[ ! "$prefix" =~ ^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$ ]]; then
  echo "definitions.sh: BUS_PREFIX must be letters, digits, - and _ in dot-separated words, got '$prefix'" >&2
  exit 1
fi
# The prefix inside a regular expression: its dots are literal.
p="${prefix//./\\.}"

# Bytes from hex digits, without xxd (not in the rabbitmq image): printf understands \xHH.
unhex() { printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"; }

hash_password() {
  local salt digest
  salt="$(openssl rand -hex 4)"
  digest="$({ unhex "$salt"; printf '%s' "$1"; } | openssl dgst -sha256 -r | cut -d' ' -f1)"
  unhex "$salt$digest" | openssl base64 -A
}

# A JSON string: only backslashes need escaping, given the characters allowed above and below.
json() { printf '"%s"' "${1//\\/\\\\}"; }

users=()
permissions=()
topic_permissions=()

# user, password variable, configure, write, read, topic write, topic read
add_user() {
  local name="$1" variable="$2"
  local password="${!variable:-}"
  if [[ -z "$password" ]]; then
    echo "definitions.sh: set $variable (the RabbitMQ password of $name)" >&2
    exit 1
  fi
  # The same characters the services' RABBITMQ_URL accepts unencoded.
  if [[ ! "$password" =~ ^[A-Za-z0-9._~-]+$ ]]; then
    echo "definitions.sh: $variable may hold only letters, digits and - _ . ~ (it is part of RABBITMQ_URL)" >&2
    exit 1
  fi
  users+=("{\"name\": $(json "$name"), \"password_hash\": $(json "$(hash_password "$password")"), \"hashing_algorithm\": \"rabbit_password_hashing_sha256\", \"tags\": []}")
  permissions+=("{\"user\": $(json "$name"), \"vhost\": \"/\", \"configure\": $(json "$3"), \"write\": $(json "$4"), \"read\": $(json "$5")}")
  topic_permissions+=("{\"user\": $(json "$name"), \"vhost\": \"/\", \"exchange\": $(json "$prefix.events"), \"write\": $(json "$6"), \"read\": $(json "$7")}")
}

# Names every process uses: the events exchange (it declares it; write = publish its own events,
# read = bind its queues to it), the dead-letter exchange and queue (declared by every RPC server
# and event consumer), the default exchange (RPC requests and replies) and direct reply-to.
events="$p\\.events"
dead="$p\\.dead-letter(\\.quorum)?"

# RPC services: serve <prefix>.rpc.<name>; own queues <prefix>.<name>.* (event subscriptions such as
# listings.user-deleted, orders.payment-refunded and *.revocations, the orders expiry queues); publish
# <name>.* events.
rpc_service() {
  local user="$1" variable="$2" name="$3" publishes="$4" consumes="$5"
  local rpc="$p\\.rpc\\.$name(\\.quorum)?" own="$p\\.$name\\..+"
  if [[ "$consumes" == '^$' ]]; then
    # Consumes no events: no queue of its own, no binding to the events exchange.
    add_user "$user" "$variable" \
      "^($events|$dead|$rpc)\$" \
      "^(amq\\.default|$events|$dead)\$" \
      "^(amq\\.rabbitmq\\.reply-to|$dead|$rpc)\$" \
      "$publishes" "$consumes"
  else
    add_user "$user" "$variable" \
      "^($events|$dead|$rpc|$own)\$" \
      "^(amq\\.default|$events|$dead|$own)\$" \
      "^(amq\\.rabbitmq\\.reply-to|$events|$dead|$rpc|$own)\$" \
      "$publishes" "$consumes"
  fi
}

# The gateway serves nothing and publishes no event: it calls the services (default exchange, direct
# reply-to) and consumes its own queues <prefix>.gateway.* (cache invalidation, revocations), each
# shared by every replica.
gateway_own="$p\\.gateway\\..+"
add_user api-gateway API_GATEWAY_RABBITMQ_PASSWORD \
  "^($events|$dead|$gateway_own)\$" \
  "^(amq\\.default|$dead|$gateway_own)\$" \
  "^(amq\\.rabbitmq\\.reply-to|$events|$dead|$gateway_own)\$" \
  '^$' '^(user|listing)\.'
# users-service publishes user.* (deletions, revocations) and consumes no event.
rpc_service users-service USERS_RABBITMQ_PASSWORD users '^user\.' '^$'
# The others publish their own events and follow users (deletions, revocations); orders-service also
# follows payment.refunded (a refund reaches the order even if orders.refund is never called), and
# that payment event alone.
rpc_service listings-service LISTINGS_RABBITMQ_PASSWORD listings '^listing\.' '^user\.'
rpc_service orders-service ORDERS_RABBITMQ_PASSWORD orders '^order\.' '^(user\.|payment\.refunded$)'
rpc_service payments-service PAYMENTS_RABBITMQ_PASSWORD payments '^payment\.' '^user\.'

join() {
  local IFS=$'\n'
  local items=("$@") out="" i
  for i in "${!items[@]}"; do
    out+="    ${items[$i]}"
    if (( i < ${#items[@]} - 1 )); then out+=$',\n'; fi
  done
  printf '%s' "$out"
}

cat <<JSON
{
  "vhosts": [{"name": "/"}],
  "users": [
$(join "${users[@]}")
  ],
  "permissions": [
$(join "${permissions[@]}")
  ],
  "topic_permissions": [
$(join "${topic_permissions[@]}")
  ]
}
JSON
