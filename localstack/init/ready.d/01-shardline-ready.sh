#!/usr/bin/env bash
# LocalStack runs this once it serves requests (the ready.d stage), inside its container.
#
# 1. It fails when Lambda cannot run. LocalStack 4.x starts each function in a container of its own
#    through the Docker socket that docker-compose.yml mounts. Without the socket the stack still
#    deploys, but every invocation fails with an error that does not mention the socket.
# 2. It leaves the readiness marker that the compose health check tests.
#
# `npm run deploy:localstack` waits until LocalStack reports this script SUCCESSFUL at
# /_localstack/init/ready, and stops with a pointer to the logs if it reports ERROR.
#
# Nothing has to exist before a deploy: `cdklocal bootstrap` creates the CDKToolkit stack (staging
# bucket, roles, version parameter) itself, and the stack creates everything else.
set -euo pipefail

marker="${SHARDLINE_READY_MARKER:-/run/shardline/ready}"
docker_socket="${SHARDLINE_DOCKER_SOCKET:-/var/run/docker.sock}"

if [[ -z "${DOCKER_HOST:-}" && ! -S "${docker_socket}" ]]; then
  echo "shardline: no Docker socket at ${docker_socket}, so LocalStack cannot run Lambda functions;" \
    "mount it as docker-compose.yml does" >&2
  exit 1
fi

mkdir -p "$(dirname "${marker}")"
date -u +%Y-%m-%dT%H:%M:%SZ >"${marker}"
echo "shardline: LocalStack is ready (marker ${marker})"
