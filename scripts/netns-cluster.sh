#!/usr/bin/env bash
# A greenraft cluster across network namespaces on one machine, as separate hosts would run it:
# one node per namespace, each with its own address on a private bridge (veth pairs into a switch
# namespace, so the host's own network is never touched), mutual TLS between the nodes and TLS on
# the client API (certificates made here with openssl), a write through one node read back through
# another, each client in a namespace of its own. Everything is torn down on exit (trap), whatever
# happened.
#
# usage: scripts/netns-cluster.sh [--nodes N] [--keep]
#   --nodes N   nodes (3 to 9, default 3)
#   --keep      keep the working directory (configurations, certificates, logs) for a look
#
# Needs root (ip netns), iproute2 (apt-get install -y iproute2), openssl, curl and node, and the
# built CLI (npm run build). Exit status: 0 the cluster worked, 1 it did not, 2 bad arguments,
# 77 skipped (not root, or no network namespaces here): the reason is printed.
set -euo pipefail

nodes=3
keep=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --nodes) nodes="${2:-}"; shift 2 ;;
    --nodes=*) nodes="${1#--nodes=}"; shift ;;
    --keep) keep=true; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "netns-cluster: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
if ! [[ "$nodes" =~ ^[0-9]+$ ]] || (( nodes < 3 || nodes > 9 )); then
  echo "netns-cluster: --nodes takes a whole number from 3 to 9, not '$nodes'" >&2; exit 2
fi

skip() { echo "netns-cluster: SKIP: $*"; exit 77; }
say() { printf 'netns-cluster: %s\n' "$*"; }

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/apps/cli/dist/bin.js"
[[ $(id -u) -eq 0 ]] || skip "needs root to create network namespaces (run it with sudo)"
command -v ip >/dev/null || skip "needs iproute2's ip (apt-get install -y iproute2)"
for tool in openssl curl node; do command -v "$tool" >/dev/null || skip "needs $tool"; done
[[ -f "$bin" ]] || { echo "netns-cluster: build the CLI first (npm run build): $bin is missing" >&2; exit 1; }

# Names unique to this run: two runs on one machine never meet (interface names: 15 characters at most).
tag="gr$(openssl rand -hex 3)"
switch="$tag-sw"
ns_probe="$tag-probe"
ip netns add "$ns_probe" 2>/dev/null || skip "this machine does not allow network namespaces (ip netns add failed)"
ip netns del "$ns_probe"

work="$(mktemp -d "${TMPDIR:-/tmp}/greenraft-netns-XXXXXX")"
pids=()
namespaces=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    (( alive == 0 )) && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  if [[ "$keep" == true ]]; then say "kept $work"; else rm -rf "$work"; fi
  say "torn down: ${#pids[@]} node processes stopped, ${#namespaces[@]} namespaces deleted"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

address() { echo "10.77.0.$((10 + $1))"; }

# The switch: a bridge in a namespace of its own.
ip netns add "$switch"; namespaces+=("$switch")
ip -n "$switch" link add br0 type bridge
ip -n "$switch" link set br0 up
for i in $(seq 1 "$nodes"); do
  ns="$tag-n$i"
  ip netns add "$ns"; namespaces+=("$ns")
  # Both ends created where they belong: eth0 in the node's namespace, its peer on the bridge.
  ip link add eth0 netns "$ns" type veth peer name "$tag-n$i" netns "$switch"
  ip -n "$switch" link set "$tag-n$i" master br0 up
  ip -n "$ns" addr add "$(address "$i")/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
done
say "$nodes namespaces on bridge $switch/br0: $(for i in $(seq 1 "$nodes"); do printf '%s=%s ' "$tag-n$i" "$(address "$i")"; done)"

# Certificates: a CA, and per node a key and a certificate for its address (server and client auth, for mutual TLS).
mkdir -p "$work/tls" "$work/logs"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=greenraft netns CA" \
  -keyout "$work/tls/ca.key" -out "$work/tls/ca.crt" 2>/dev/null
for i in $(seq 1 "$nodes"); do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=n$i" \
    -keyout "$work/tls/n$i.key" -out "$work/tls/n$i.csr" 2>/dev/null
  printf 'subjectAltName=IP:%s,DNS:n%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature\n' "$(address "$i")" "$i" > "$work/tls/n$i.ext"
  openssl x509 -req -in "$work/tls/n$i.csr" -CA "$work/tls/ca.crt" -CAkey "$work/tls/ca.key" -CAcreateserial -days 2 \
    -extfile "$work/tls/n$i.ext" -out "$work/tls/n$i.crt" 2>/dev/null
done
chmod 600 "$work"/tls/*.key
openssl rand -base64 32 > "$work/cluster.secret"; chmod 600 "$work/cluster.secret"
say "certificates: a CA and $nodes node certificates (EC P-256, SAN = the node's address), mutual TLS between nodes"

# One configuration per node: every peer at its own address, wss:// and https://.
peers=""
for i in $(seq 1 "$nodes"); do
  peers+="${peers:+, }\"n$i\": { \"peerUrl\": \"wss://$(address "$i"):7001\", \"clientUrl\": \"https://$(address "$i"):7101\" }"
done
for i in $(seq 1 "$nodes"); do
  cat > "$work/n$i.json" <<EOF
{
  "id": "n$i",
  "clusterId": "greenraft-netns",
  "dataDir": "data/n$i",
  "clusterSecretFile": "cluster.secret",
  "peers": { $peers },
  "peer": { "tls": { "certFile": "tls/n$i.crt", "keyFile": "tls/n$i.key", "caFile": "tls/ca.crt", "mutual": true } },
  "client": { "tls": { "certFile": "tls/n$i.crt", "keyFile": "tls/n$i.key", "caFile": "tls/ca.crt" } },
  "log": { "level": "info", "format": "json" }
}
EOF
done

for i in $(seq 1 "$nodes"); do
  ip netns exec "$tag-n$i" node "$bin" node --config "$work/n$i.json" > "$work/logs/n$i.log" 2>&1 &
  pids+=("$!")
done
say "started $nodes nodes (pids ${pids[*]})"

# From a namespace, over TLS: curl against a node's client API.
in_ns() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }
client_curl() { in_ns "$1" curl -sS --max-time 5 --cacert "$work/tls/ca.crt" "${@:2}"; }

deadline=$((SECONDS + 90))
for i in $(seq 1 "$nodes"); do
  until [[ "$(client_curl "$tag-n1" -o /dev/null -w '%{http_code}' "https://$(address "$i"):7101/readyz" 2>/dev/null)" == 200 ]]; do
    if (( SECONDS > deadline )); then
      echo "netns-cluster: n$i not ready within 90 s; its log:" >&2; tail -20 "$work/logs/n$i.log" >&2; exit 1
    fi
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { echo "netns-cluster: a node died; logs in $work/logs" >&2; keep=true; exit 1; }; done
    sleep 0.5
  done
done
# The leader node $2 knows, asked from namespace $1; waits out an election in progress (60 s at most).
leader_seen_by() {
  local until_s=$((SECONDS + 60)) status seen
  while (( SECONDS < until_s )); do
    status="$(client_curl "$1" "https://$(address "$2"):7101/v1/cluster/status" 2>/dev/null || true)"
    seen="$(node -e 'try { const s = JSON.parse(process.argv[1]); console.log(s.leader ?? ""); } catch { console.log(""); }' "$status")"
    if [[ "$seen" =~ ^n[0-9]+$ ]]; then echo "$seen"; return 0; fi
    sleep 0.3
  done
  echo "netns-cluster: n$2 knows no leader after 60 s" >&2
  return 1
}
leader="$(leader_seen_by "$tag-n2" 2)"
status="$(client_curl "$tag-n2" "https://$(address 2):7101/v1/cluster/status")"
say "every node ready; n2 sees leader $leader, voters $(node -e 'console.log(JSON.stringify(JSON.parse(process.argv[1]).config.voters))' "$status")"

# The peer port demands a client certificate: a TLS client without one is refused.
if client_curl "$tag-n1" -o /dev/null "https://$(address 2):7001/" 2>/dev/null; then
  echo "netns-cluster: n2's peer port accepted a TLS connection without a client certificate" >&2; exit 1
fi
say "n2's peer port refuses a TLS client without a certificate (mutual TLS)"

# A write through the last node, from the first node's namespace, and a linearizable read through
# the second node from the last node's namespace: every hop crosses the bridge, over TLS.
value="written from $tag-n1 at $(date -u +%H:%M:%S)"
last="$nodes"
put="$(in_ns "$tag-n1" env NODE_EXTRA_CA_CERTS="$work/tls/ca.crt" node "$bin" kv put netns-check "$value" --endpoints "https://$(address "$last"):7101" --json)"
say "kv put netns-check from $tag-n1 via n$last: $put"
got="$(in_ns "$tag-n$last" env NODE_EXTRA_CA_CERTS="$work/tls/ca.crt" node "$bin" kv get netns-check --endpoints "https://$(address 2):7101" --json)"
say "kv get netns-check from $tag-n$last via n2: $got"
read_value="$(node -e 'console.log(JSON.parse(process.argv[1]).value)' "$got")"
if [[ "$read_value" != "$value" ]]; then
  echo "netns-cluster: read '$read_value', expected '$value'" >&2; exit 1
fi
stale="$(client_curl "$tag-n2" "https://$(address 1):7101/v1/kv/netns-check?consistency=stale")"
say "n1's own state (stale read over https from $tag-n2): $stale"

# A host unplugged: the leader's link goes down; the others elect a leader and take a write; the
# link comes back and the old leader catches up.
leader="$(leader_seen_by "$tag-n1" 1)"
leader_index="${leader#n}"
other=$(( leader_index % nodes + 1 ))
ip -n "$tag-n$leader_index" link set eth0 down
say "unplugged $leader (ip link set eth0 down in $tag-n$leader_index)"
after="written while $leader was unplugged"
put="$(in_ns "$tag-n$other" env NODE_EXTRA_CA_CERTS="$work/tls/ca.crt" node "$bin" kv put netns-check "$after" --endpoints "https://$(address "$other"):7101" --timeout 30000 --json)"
say "kv put through n$other without $leader: $put; n$other now sees leader $(leader_seen_by "$tag-n$other" "$other")"
ip -n "$tag-n$leader_index" link set eth0 up
deadline=$((SECONDS + 60))
until [[ "$(client_curl "$tag-n$other" "https://$(address "$leader_index"):7101/v1/kv/netns-check?consistency=stale" 2>/dev/null | node -e 'let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => { try { console.log(JSON.parse(s).value); } catch { console.log(""); } })')" == "$after" ]]; do
  if (( SECONDS > deadline )); then echo "netns-cluster: $leader did not catch up within 60 s of its link coming back" >&2; exit 1; fi
  sleep 0.5
done
say "plugged $leader back in: it caught up (its own state holds the write it missed)"
say "OK: $nodes nodes in $nodes namespaces, mutual TLS between them, a write and a read across namespaces, a host unplugged and back"
