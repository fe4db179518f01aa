#!/usr/bin/env bash
# create-service-hook.sh creates the service-hook subscription that posts a project's completed
# pipeline runs to adofleet (POST /v1/hooks/ado, basic authentication), with the service-hooks REST
# API (subscriptions create, api-version 7.1). It does what README.md's portal steps do.
#
#   ADO_ORG_URL      https://dev.azure.com/contoso
#   ADO_PROJECT      the project's name
#   ADO_PAT          a PAT allowed to manage service hooks (scope: Service hooks (read/write))
#   ADOFLEET_URL     https://adofleet.contoso.example (the hook path is added)
#   HOOKS_USERNAME   hooks.username of adofleet.yaml
#   HOOKS_PASSWORD   the value behind hooks.password
#   PIPELINE_ID      optional: only this pipeline's runs
#   EVENT_TYPE       optional: default ms.vss-pipelines.run-state-changed-event; build.complete
#                    also carries who requested the run
set -euo pipefail

for v in ADO_ORG_URL ADO_PROJECT ADO_PAT ADOFLEET_URL HOOKS_USERNAME HOOKS_PASSWORD; do
	if [ -z "${!v:-}" ]; then
		echo "set $v" >&2
		exit 2
	fi
done
command -v jq >/dev/null || { echo "jq is required" >&2; exit 1; }
export HOOKS_PASSWORD # read by jq from its environment, not its arguments
org="${ADO_ORG_URL%/}"
event="${EVENT_TYPE:-ms.vss-pipelines.run-state-changed-event}"

# The PAT and the hook password go to curl in files only this user can read, never on a command
# line (where other users of the machine could see them in the process list).
tmp=$(umask 077 && mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'header = "Authorization: Basic %s"\n' "$(printf ':%s' "$ADO_PAT" | base64 | tr -d '\n')" >"$tmp/auth"

ado() {
	curl --silent --show-error --fail-with-body --retry 3 --max-time 30 --config "$tmp/auth" \
		-H 'Content-Type: application/json' "$@"
}

project=$(jq -rn --arg p "$ADO_PROJECT" '$p|@uri')
project_id=$(ado "$org/_apis/projects/$project?api-version=7.1" | jq -r .id)

case "$event" in
build.complete)
	publisher=tfs
	resource_version=2.0
	inputs=$(jq -n --arg p "$project_id" '{projectId: $p}')
	;;
ms.vss-pipelines.run-state-changed-event)
	publisher=pipelines
	resource_version=5.1-preview.1
	inputs=$(jq -n --arg p "$project_id" --arg pl "${PIPELINE_ID:-}" \
		'{projectId: $p, runStateId: "Completed"} + (if $pl == "" then {} else {pipelineId: $pl} end)')
	;;
*)
	echo "EVENT_TYPE must be ms.vss-pipelines.run-state-changed-event or build.complete" >&2
	exit 2
	;;
esac

jq -n \
	--arg publisher "$publisher" --arg event "$event" --arg rv "$resource_version" \
	--argjson inputs "$inputs" \
	--arg url "${ADOFLEET_URL%/}/v1/hooks/ado" \
	--arg user "$HOOKS_USERNAME" '{
	publisherId: $publisher,
	eventType: $event,
	resourceVersion: $rv,
	consumerId: "webHooks",
	consumerActionId: "httpRequest",
	publisherInputs: $inputs,
	consumerInputs: {
		url: $url,
		basicAuthUsername: $user,
		basicAuthPassword: $ENV.HOOKS_PASSWORD,
		resourceDetailsToSend: "all",
		messagesToSend: "none",
		detailedMessagesToSend: "none"
	}
}' >"$tmp/body"

ado -X POST --data-binary @"$tmp/body" "$org/_apis/hooks/subscriptions?api-version=7.1" |
	jq '{id, eventType, publisherId, url: .consumerInputs.url, status}'
