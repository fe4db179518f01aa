#!/bin/sh
# run-agent.sh: run one Azure Pipelines agent for one job, as adofleet's local provider command.
#
# adofleet starts this in a fresh working directory with:
#   AZP_URL, AZP_TOKEN, AZP_POOL, AZP_AGENT_NAME   where and as whom to register
#   AZP_ONCE                                       "true": take one job, then exit (the default)
#   AZP_AGENT_PACKAGE                              the agent's .tar.gz, or a directory holding an
#                                                  unpacked agent (set it in providers.local.env)
# The agent is unpacked into ./agent, configured unattended, run, and its configuration removed
# on exit (also on SIGTERM/SIGINT), so no stale agent is left registered in the pool.
#
# The token reaches config.sh only through VSTS_AGENT_INPUT_TOKEN (the agent reads each input from
# VSTS_AGENT_INPUT_<NAME>), never on a command line where ps would show it, and it is removed from
# the environment the job inherits.
set -eu

: "${AZP_URL:?AZP_URL is not set}"
: "${AZP_TOKEN:?AZP_TOKEN is not set}"
: "${AZP_POOL:?AZP_POOL is not set}"
: "${AZP_AGENT_NAME:?AZP_AGENT_NAME is not set}"
: "${AZP_AGENT_PACKAGE:?AZP_AGENT_PACKAGE is not set (the agent .tar.gz or an unpacked agent directory)}"

mkdir -p agent
if [ -d "$AZP_AGENT_PACKAGE" ]; then
	cp -R "$AZP_AGENT_PACKAGE/." agent/
else
	tar -xzf "$AZP_AGENT_PACKAGE" -C agent
fi
cd agent

token=$AZP_TOKEN
unset AZP_TOKEN

configured=
agent_pid=

# cleanup removes the agent's registration. It runs once, whatever ends the script.
cleanup() {
	trap - EXIT INT TERM
	if [ -n "$agent_pid" ]; then
		kill -TERM "$agent_pid" 2>/dev/null || true
		wait "$agent_pid" 2>/dev/null || true
	fi
	if [ -n "$configured" ]; then
		VSTS_AGENT_INPUT_TOKEN=$token ./config.sh remove --unattended --auth pat || true
	fi
}
trap 'cleanup' EXIT
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 130' INT

VSTS_AGENT_INPUT_TOKEN=$token ./config.sh --unattended --url "$AZP_URL" --auth pat \
	--pool "$AZP_POOL" --agent "$AZP_AGENT_NAME" --replace
configured=1

once=--once
if [ "${AZP_ONCE:-true}" != "true" ]; then
	once=
fi
# In the background so that a signal reaches the trap while the agent runs.
./run.sh $once &
agent_pid=$!
status=0
wait "$agent_pid" || status=$?
agent_pid=
exit "$status"
