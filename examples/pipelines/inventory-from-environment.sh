#!/usr/bin/env bash
# inventory-from-environment.sh prints an Ansible INI inventory of the VM resources registered in
# an Azure DevOps Environment (one host per resource, grouped by its tags). adofleet registers an
# EC2 instance as a VM resource when it starts and removes it when it terminates, so the list is the
# group's live instances. The resource's name is the instance's host name (its private DNS name).
#
# Runs in a pipeline step with SYSTEM_ACCESSTOKEN mapped from $(System.AccessToken); the project's
# build service identity needs the Environment's User role (Environment > Security).
#   ENVIRONMENT_NAME   the Environment (required)
#   SYSTEM_COLLECTIONURI, SYSTEM_TEAMPROJECT  set by the agent
set -euo pipefail

: "${SYSTEM_ACCESSTOKEN:?map SYSTEM_ACCESSTOKEN: \$(System.AccessToken) in the step}"
: "${ENVIRONMENT_NAME:?set ENVIRONMENT_NAME}"
: "${SYSTEM_COLLECTIONURI:?run this in a pipeline step}"
: "${SYSTEM_TEAMPROJECT:?run this in a pipeline step}"
command -v jq >/dev/null || { echo "jq is required" >&2; exit 1; }

api="${SYSTEM_COLLECTIONURI%/}/$(jq -rn --arg p "$SYSTEM_TEAMPROJECT" '$p|@uri')/_apis/distributedtask"

get() {
	# The token goes in a header read from stdin, so it is not on the command line.
	printf 'header = "Authorization: Bearer %s"\n' "$SYSTEM_ACCESSTOKEN" |
		curl --silent --show-error --fail --retry 3 --retry-delay 2 --max-time 30 --config - "$1"
}

name=$(jq -rn --arg n "$ENVIRONMENT_NAME" '$n|@uri')
env_id=$(get "$api/environments?name=$name&api-version=7.1" |
	jq -r --arg n "$ENVIRONMENT_NAME" '[.value[] | select(.name == $n)][0].id // empty')
if [ -z "$env_id" ]; then
	echo "Environment $ENVIRONMENT_NAME not found in project $SYSTEM_TEAMPROJECT" >&2
	exit 1
fi

resources=$(get "$api/environments/$env_id/providers/virtualmachines?api-version=7.1-preview.1")
count=$(jq '.value | length' <<<"$resources")
if [ "$count" -eq 0 ]; then
	echo "Environment $ENVIRONMENT_NAME has no VM resources" >&2
	exit 1
fi
echo "inventory: $count hosts from Environment $ENVIRONMENT_NAME" >&2

# [all] lists every host; each tag becomes a group (characters Ansible rejects become _).
jq -r '
  "[all]", (.value[] | .name),
  ( [.value[] | .name as $h | (.tags // [])[] | {tag: (gsub("[^A-Za-z0-9_]"; "_")), host: $h}]
    | group_by(.tag)[] | "", "[\(.[0].tag)]", (.[] | .host) )
' <<<"$resources"
