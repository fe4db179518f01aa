#!/bin/sh
# Entrypoint of the adofleet agent image: configure the Azure Pipelines agent unattended, run
# exactly one job (run.sh --once), remove the agent from its pool, and exit with the job's status.
# SIGTERM (ECS StopTask, docker stop) stops the agent, removes it and exits 143.
#
# Environment:
#   AZP_URL          organization URL, e.g. https://dev.azure.com/contoso (required)
#   AZP_TOKEN        registration token (PAT with Agent Pools: Read & manage), or
#   AZP_TOKEN_FILE   a file holding it (read once; AZP_TOKEN wins when both are set)
#   AZP_POOL         agent pool name (default: Default)
#   AZP_AGENT_NAME   agent name (default: the host name); adofleet sets a unique one per task
#   AZP_WORK         work directory (default: _work)
#   AZP_AGENT_DIR    where the agent is unpacked (default: the image's /azp/agent)
#
# The token never appears on a command line, in the output or in the job's environment: it is
# handed to config.sh through the agent's VSTS_AGENT_INPUT_TOKEN variable for that one command,
# and AZP_TOKEN is unset before the job runs.
set -eu

log() { printf 'entrypoint: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

[ -n "${AZP_URL:-}" ] || die "AZP_URL is not set (the organization URL, e.g. https://dev.azure.com/contoso)"

token=""
if [ -n "${AZP_TOKEN:-}" ]; then
	token=$AZP_TOKEN
elif [ -n "${AZP_TOKEN_FILE:-}" ]; then
	[ -r "$AZP_TOKEN_FILE" ] || die "AZP_TOKEN_FILE=$AZP_TOKEN_FILE is not a readable file"
	token=$(cat "$AZP_TOKEN_FILE")
else
	die "set AZP_TOKEN or AZP_TOKEN_FILE to the agent registration token"
fi
[ -n "$token" ] || die "the agent registration token is empty"
# The job inherits this process's environment: it must not find the token there.
unset AZP_TOKEN

pool=${AZP_POOL:-Default}
name=${AZP_AGENT_NAME:-$(hostname)}
work=${AZP_WORK:-_work}
cd "${AZP_AGENT_DIR:-/azp/agent}" || die "agent directory ${AZP_AGENT_DIR:-/azp/agent} not found"

# Keep our own variables out of the capabilities the agent reports to ADO.
VSO_AGENT_IGNORE="AZP_TOKEN,AZP_TOKEN_FILE,VSTS_AGENT_INPUT_TOKEN${VSO_AGENT_IGNORE:+,$VSO_AGENT_IGNORE}"
export VSO_AGENT_IGNORE

registered=0 # 1 once config.sh has been started: from then on the agent may exist in the pool
child=""     # the pid of the config.sh or run.sh we are waiting for

# remove unregisters the agent; it runs once, on every way out.
remove() {
	[ "$registered" = 1 ] || return 0
	registered=0
	log "removing agent $name from pool $pool"
	if ! VSTS_AGENT_INPUT_TOKEN=$token ./config.sh remove --unattended --auth pat; then
		log "could not remove agent $name; adofleet deletes it once it is offline with no instance"
	fi
}

on_signal() {
	log "stopping (signal); the running job, if any, is canceled"
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null || true
		wait "$child" 2>/dev/null || true
	fi
	remove
	exit 143
}
trap on_signal TERM INT
trap remove EXIT

# wait_child waits for the background child; a signal interrupts wait at once (a foreground child
# would delay the trap until it finished). It sets status to the child's exit status.
wait_child() {
	child=$1
	status=0
	wait "$child" || status=$?
	child=""
}

log "configuring agent $name for pool $pool at $AZP_URL"
registered=1
VSTS_AGENT_INPUT_TOKEN=$token ./config.sh --unattended \
	--url "$AZP_URL" --auth pat --pool "$pool" --agent "$name" --work "$work" \
	--replace --acceptTeeEula &
wait_child $!
if [ "$status" -ne 0 ]; then
	log "config.sh failed with status $status"
	remove
	exit "$status"
fi

log "running one job"
./run.sh --once &
wait_child $!
log "agent exited with status $status"
remove
exit "$status"
