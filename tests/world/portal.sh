# shellcheck shell=bash
# tests/world/portal.sh — the portal of the demo world; sourced by world.sh, which
# defines PREFIX, STATE, LOGS, RUN, BUILD and the helpers used here (nsx, die,
# wait_for, log_tail, say).
#
# `up` runs sluice-portal in ${P}portal at https://198.51.100.30:8443 from a data
# dir made fresh in $STATE/portal, then builds the demo's policy
# (docs/ARCHITECTURE.md, "The demo world") from nothing with `sluice admin`, run
# from ${P}client as an administrator would run it. Files it leaves in $STATE:
#
#   portal/       the portal's data dir (0700): database, CA, server certificate
#   ca.pem        the portal's CA, for `sluice admin`, clients and gateways
#   admin.token   the admin token `sluice-portal init` printed (0600)
#   gw.token      the site token the gateway gw of site "home" will enroll with (0600)
#   gw2.token     the site token of its second gateway, gw2 (0600)
#   alice.token   the client token of alice's device, ${P}client (0600)
#   bob.token     the client token of bob's device, ${P}client2 (0600)
#   run/portal.pid, logs/portal.log

PORTAL_ADDR=198.51.100.30
PORTAL_PORT=8443
PORTAL_URL=https://$PORTAL_ADDR:$PORTAL_PORT
PORTAL_BIN=$BUILD/src/portal/sluice-portal
SLUICE_BIN=$BUILD/src/cli/sluice

# the demo's resources: name, type, address, description
PORTAL_RESOURCES=(
	"NAS|dns|nas.home.int|on the LAN"
	"GitLab|dns|gitlab.company.com|on the LAN"
	"Slack|dns|*.slack.saas.test|SaaS: every name under slack.saas.test"
	"GitHub|dns|github.saas.test|SaaS: allowlists the gateway (not gist.)"
	"LAN servers|cidr|203.0.113.128/25|on the LAN: iperf3, UDP echo at .200"
)

portal_require() {
	local b
	for b in "$PORTAL_BIN" "$SLUICE_BIN"; do
		[[ -x $b ]] || die "no $b: build first (make build), or give --build DIR"
	done
}

# admin ARGS...: `sluice admin` from the client's namespace. Options rather than
# the environment, so that a SLUICE_TOKEN of the caller cannot win.
admin() {
	nsx client "$SLUICE_BIN" admin --portal "$PORTAL_URL" --ca "$STATE/ca.pem" \
		--token-file "$STATE/admin.token" --timeout 5 "$@"
}

# portal_answers: the API answers the admin token over TLS verified against the
# CA, from the client's namespace. The token goes through stdin, not argv.
portal_answers() {
	local tok
	read -r tok <"$STATE/admin.token" || return 1
	printf 'Authorization: Bearer %s\n' "$tok" |
		nsx client curl -sf -o /dev/null --connect-timeout 1 --max-time 2 \
			--cacert "$STATE/ca.pem" -H @- "$PORTAL_URL/api/v1/sites"
}

portal_start() {
	local data=$STATE/portal
	# init prints the admin token on stdout, once: straight into a 0600 file
	(umask 077 && exec "$PORTAL_BIN" init --data "$data" --address "$PORTAL_ADDR" \
		>"$STATE/admin.token" 2>>"$LOGS/portal.log") ||
		die "sluice-portal init failed: $(log_tail "$LOGS/portal.log")"
	cp -- "$data/ca.pem" "$STATE/ca.pem"
	# setsid: the portal outlives this script and a Ctrl-C meant for it
	ip netns exec "$(ns portal)" setsid "$PORTAL_BIN" serve --data "$data" \
		--listen "$PORTAL_ADDR" --port "$PORTAL_PORT" </dev/null >>"$LOGS/portal.log" 2>&1 &
	echo $! >"$RUN/portal.pid"
	wait_for "the portal at $PORTAL_URL" portal_answers
}

# portal_token FILE ARGS...: `tokens create ARGS` with the secret into FILE (0600)
portal_token() {
	local file=$1
	shift
	(umask 077 && admin -q tokens create "$@" >"$file") || die "could not create the token $file"
	[[ -s $file ]] || die "no token in $file"
}

# new ARGS...: `sluice admin -q ARGS`, a create that prints the new id
new() {
	local id
	id=$(admin -q "$@") || return 1
	[[ $id =~ ^[0-9]+$ ]] || { warn "sluice admin $*: no id but '$id'"; return 1; }
	printf '%s' "$id"
}

# The demo's policy, from an empty portal: every id comes from a command before.
# (No redirection on a function call here: see spawn() in world.sh; `_=$(...)`
# drops an id and still stops on a failure.)
portal_build_policy() {
	local site eng alice bob res r name type address desc
	site=$(new sites create --name home)
	# the gateways of the site, created ahead of their enrollment: sluice-gateway
	# claims the row of its --name with the site token (docs/protocol.md)
	_=$(new gateways create --site "$site" --name gw)
	_=$(new gateways create --site "$site" --name gw2)
	alice=$(new users create --name alice)
	bob=$(new users create --name bob)      # in no group: may reach nothing
	eng=$(new groups create --name engineering)
	_=$(admin -q groups add-member "$eng" "$alice")
	for r in "${PORTAL_RESOURCES[@]}"; do
		IFS='|' read -r name type address desc <<<"$r"
		res=$(new resources create --site "$site" --type "$type" --address "$address" \
			--name "$name" --description "$desc")
		_=$(new policies create --group "$eng" --resource "$res" \
			--description "engineering may reach $name")
	done
	portal_token "$STATE/gw.token" --kind site --name gw --site "$site"
	portal_token "$STATE/gw2.token" --kind site --name gw2 --site "$site"
	portal_token "$STATE/alice.token" --kind client --name alice --user "$alice"
	portal_token "$STATE/bob.token" --kind client --name bob --user "$bob"
}

portal_up() {
	portal_start
	portal_build_policy
}

# a path as the user may type it: relative when under the current directory
portal_path() { local p=$1; [[ $p == "$PWD"/* ]] && p=${p#"$PWD"/}; printf '%s' "$p"; }

portal_summary() {
	local ca tok cli
	ca=$(portal_path "$STATE/ca.pem")
	tok=$(portal_path "$STATE/admin.token")
	cli=$(portal_path "$SLUICE_BIN")
	[[ $cli == */* ]] || cli=./$cli
	say "portal: $PORTAL_URL in $(ns portal), built from nothing by sluice admin (log $(portal_path "$LOGS/portal.log"))"
	say "  site home, gateways gw and gw2 (offline until sluice-gateway enrolls with $(portal_path "$STATE/gw.token"), $(portal_path "$STATE/gw2.token"))"
	say "  users: alice in engineering (client token $(portal_path "$STATE/alice.token")), bob in no group ($(portal_path "$STATE/bob.token"))"
	say "  sluice admin, from any namespace of the world (the host itself has no route to it):"
	say "    export SLUICE_PORTAL=$PORTAL_URL SLUICE_CA=$ca SLUICE_TOKEN_FILE=$tok"
	say "    ip netns exec $(ns client) $cli admin resources list"
	say "  resources:"
	admin resources list | sed 's/^/    /'
	say "  policies:"
	admin policies list | sed 's/^/    /'
}

# portal_status: one line; fails when the portal does not answer
portal_status() {
	local pid=-
	[[ -r $RUN/portal.pid ]] && pid=$(<"$RUN/portal.pid")
	if [[ -r $STATE/admin.token && -r $STATE/ca.pem ]] && portal_answers; then
		say "  portal $PORTAL_URL answers the admin token (pid $pid)"
		return 0
	fi
	say "  portal $PORTAL_URL: NOT ANSWERING (pid $pid; log $LOGS/portal.log)"
	return 1
}
