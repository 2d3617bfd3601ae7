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
  --wait --interval "${CONNECT_POLL_SECONDS:-10}") || exit $?

# The JSON printed holds the instance's ARN, arn:aws:connect:REGION:ACCOUNT:instance/ID
id=$(printf '%s\n' "$out" | sed -n 's|.*:instance/\([0-9A-Za-z-]*\).*|\1|p' | head -n 1)
created=no
printf '%s\n' "$out" | grep -Eiq '"created": *true' && created=yes
[ -n "$id" ] || { echo "connect-instance.sh: no instance ARN in the output of $cli" >&2; exit 1; }
echo "connect-instance.sh: $alias is $id, ACTIVE (created now: $created)" >&2
printf '%s\n' "$id"
