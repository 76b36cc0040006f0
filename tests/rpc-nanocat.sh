#!/bin/bash
# The RPC envelope, driven by nanocat: a nanomsg client we did not write.
. "$(dirname "$0")/lib.sh"

if ! command -v nanocat >/dev/null; then
  echo "1..0 # SKIP nanocat not installed (nanomsg-utils)"; exit 0
fi
start_daemon "$TMP/d" --accel tcg || { echo "Bail out! sandboxd did not start"; cat "$TMP/d.log" | diag; exit 1; }

call() { # call RAW-REQUEST
  nanocat --req --connect "$SANDBOXD_ADDRESS" --data "$1" --ascii --recv-timeout 5 2>&1 | head -c 4000
}

out=$(call '{"id": 7, "method": "sandbox.v1.System.Version", "params": {}}')
contains "$out" '"id":7' "Version answers with the request's id"
contains "$out" '"status":{"code":"OK"' "... status OK"
contains "$out" '"api":"sandbox.v1"' "... and the API name"
contains "$out" '"version":"' "... and a version"

out=$(call 'this is not json')
contains "$out" '"code":"INVALID_ARGUMENT"' "a request that is not JSON is INVALID_ARGUMENT"
contains "$out" 'request is not valid JSON' "... and says so"
contains "$out" '"id":null' "... with a null id"

out=$(call '[1,2]')
contains "$out" 'request is not a JSON object' "a request that is not an object is refused"

out=$(call '{"id": 1}')
contains "$out" 'field \"method\" is required' "a request without a method names the field"

out=$(call '{"id": "x", "method": "sandbox.v1.System.Ping"}')
contains "$out" 'field \"id\" must be an integer' "a string id names the field and type"

# 150,000 nested arrays once crashed sandboxd (json-glib's recursion).
python3 -c 'print("{\"id\": 5, \"method\": \"sandbox.v1.System.Ping\", \"params\": {\"a\": " + "[" * 150000 + "]" * 150000 + "}}", end="")' >"$TMP/deep.json"
out=$(nanocat --req --connect "$SANDBOXD_ADDRESS" -F "$TMP/deep.json" --ascii --recv-timeout 5 2>&1 | head -c 4000)
contains "$out" 'nest deeper than 64 levels' "a request nested 150,000 deep is refused, naming why"
out=$(call '{"id": 6, "method": "sandbox.v1.System.Ping", "params": {}}')
contains "$out" '"code":"OK"' "... and sandboxd still answers"

# Files a client names are read off the main loop, and only if they are
# regular files: a FIFO as config.json once froze sandboxd.
mkdir -p "$TMP/fifo/rootfs" "$TMP/linked/rootfs"
mkfifo "$TMP/fifo/config.json"
out=$(call "{\"id\": 8, \"method\": \"sandbox.v1.Sandboxes.Create\", \"params\": {\"bundle\": \"$TMP/fifo\"}}")
contains "$out" "config.json: not a regular file" "a FIFO as config.json is refused at once"
echo '{}' >"$TMP/elsewhere.json"; ln -s "$TMP/elsewhere.json" "$TMP/linked/config.json"
out=$(call "{\"id\": 9, \"method\": \"sandbox.v1.Sandboxes.Create\", \"params\": {\"bundle\": \"$TMP/linked\"}}")
contains "$out" "config.json: a symbolic link" "a config.json that is a symlink is refused"
out=$(call '{"id": 10, "method": "sandbox.v1.System.Ping", "params": {}}')
contains "$out" '"code":"OK"' "... and sandboxd still answers"

out=$(call '{"id": 3, "method": "sandbox.v1.Nope.Never"}')
contains "$out" '"code":"UNIMPLEMENTED"' "an unknown method is UNIMPLEMENTED"
contains "$out" 'sandbox.v1.Nope.Never' "... naming the method"

out=$(call '{"id": 4, "method": "sandbox.v1.Sandboxes.Get", "params": {"id": "nope"}}')
contains "$out" '"code":"NOT_FOUND"' "Get of an unknown sandbox is NOT_FOUND"

out=$(call '{"id": 5, "method": "sandbox.v1.Sandboxes.Create", "params": {"memory_mb": "lots"}}')
contains "$out" 'field \"memory_mb\" must be an integer' "Create with a wrong type names the field"

out=$(call '{"id": 6, "method": "sandbox.v1.Sandboxes.Create", "params": {"name": "bad name!"}}')
contains "$out" '"code":"INVALID_ARGUMENT"' "Create with a bad name is INVALID_ARGUMENT"

out=$(call '{"id": 8, "method": "sandbox.v1.Processes.Exec", "params": {"sandbox_id": "nope", "args": ["true"]}}')
contains "$out" '"code":"NOT_FOUND"' "Exec in an unknown sandbox is NOT_FOUND"

{ printf '{"id": 10, "method": "sandbox.v1.System.Ping", "params": {"pad": "'
  head -c 5000000 /dev/zero | tr '\0' 'x'
  printf '"}}'; } >"$TMP/big.json"
out=$(nanocat --req --connect "$SANDBOXD_ADDRESS" --file "$TMP/big.json" --ascii --recv-timeout 5 2>&1)
contains "$out" '"code":"RESOURCE_EXHAUSTED"' "an oversized request (5 MB) is RESOURCE_EXHAUSTED"
contains "$out" 'exceeds the maximum of 4194304' "... saying the limit"

out=$(call '{"id": 11, "method": "sandbox.v1.Sandboxes.Create", "params": {"memroy_mb": 128}}')
contains "$out" 'unknown field \"memroy_mb\"' "a misspelt field is refused, not ignored"

out=$(call '{"id": 13, "method": "sandbox.v1.Events.Read", "params": {"since_seq": 0}}')
contains "$out" '"next_seq":0' "Events.Read on a fresh daemon has no events yet"

# Every method of the schema is implemented (none answers UNIMPLEMENTED).
schema="$(dirname "$0")/../rpc/sandbox.v1.json"
missing=""
# Each request carries its method's required params (as the schema types
# them), so it passes validation and reaches the method's own code: a
# method without a handler would answer UNIMPLEMENTED, and one refused by
# the schema would name a field.
python3 -c "
import json,sys
s=json.load(open(sys.argv[1]))
fill={'string':'nope','boolean':False,'array<string>':['x'],'object':{}}
for svc,ms in s['services'].items():
  for m,d in ms.items():
    p={k:(v['enum'][0] if 'enum' in v else v.get('min',1) if v['type']=='integer' else fill[v['type']])
       for k,v in d['params'].items() if v.get('required')}
    # Create with no name would boot a VM: a bad name proves the daemon got it.
    if svc=='Sandboxes' and m=='Create': p={'name':'-'}
    print('%s.%s.%s %s' % (s['api'],svc,m,json.dumps(p,separators=(',',':'))))" "$schema" >"$TMP/methods"
while read -r m params; do
  out=$(call "{\"id\": 12, \"method\": \"$m\", \"params\": $params}")
  case "$out" in *UNIMPLEMENTED*|*"is required"*|"") missing="$missing $m" ;; esac
done <"$TMP/methods"
is "$missing" "" "every method in rpc/sandbox.v1.json is implemented by sandboxd"
for m in $(python3 -c "
import json,sys
s=json.load(open(sys.argv[1]))
for svc,ms in s['services'].items():
  for m in ms: print('%s.%s.%s' % (s['api'],svc,m))" "$schema"); do
  grep -q "### \`$m\`" "$(dirname "$0")/../rpc/API.md" || missing="$missing $m"
done
is "$missing" "" "... and documented in rpc/API.md"

out=$(call '{"id": 9, "method": "sandbox.v1.System.Ping"}')
contains "$out" '"code":"OK"' "the daemon still serves after all the bad requests"

tap_done
