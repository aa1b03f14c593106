#!/usr/bin/env bash
# Runs inside LocalStack once its services are ready. It leaves a marker that `npm run deploy:localstack`
# waits for, so a deploy never races LocalStack's start-up.
set -euo pipefail
echo "shardline: LocalStack ready at $(date -u +%Y-%m-%dT%H:%M:%SZ)" > /tmp/shardline-ready
