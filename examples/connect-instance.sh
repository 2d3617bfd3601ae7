#!/bin/sh
# examples/connect-instance.sh - a shell script using the aws-connect command:
# makes sure the instance ALIAS exists and is ACTIVE (created at most once,
# then waited for) and prints its id on stdout, for other scripts:
#
#   id=$(examples/connect-instance.sh game-support) || exit
#
# Runs `aws-connect` from PATH (make install, luarocks make), or the command
# in AWS_CONNECT (e.g. AWS_CONNECT=bin/aws-connect in a checkout). Region,
# credentials and endpoint come from the usual AWS settings. On failure the
# command's one-line error is on stderr and its exit code is passed on
# (1 service, 2 usage or validation, 3 credentials, network or timeout).
set -u
alias=${1:?usage: connect-instance.sh ALIAS}
cli=${AWS_CONNECT:-aws-connect}

out=$("$cli" ensure-instance --identity-management-type CONNECT_MANAGED \
  --inbound-calls-enabled --no-outbound-calls-enabled --instance-alias "$alias" \
  --wait --interval "${CONNECT_POLL_SECONDS:-10}" --output table) || exit $?

# --output table prints "key  value" rows
id=$(printf '%s\n' "$out" | awk '$1 == "id" { print $2; exit }')
created=$(printf '%s\n' "$out" | awk '$1 == "created" { print $2; exit }')
status=$(printf '%s\n' "$out" | awk '$1 == "instance_status" { print $2; exit }')
[ -n "$id" ] || { echo "connect-instance.sh: no id in the output of $cli" >&2; exit 1; }
echo "connect-instance.sh: $alias is $id, $status (created now: $created)" >&2
printf '%s\n' "$id"
