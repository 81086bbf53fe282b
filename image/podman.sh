#!/usr/bin/env bash
# podman with settings that work on every host this project builds on, CI included: runc and
# cgroupfs (crun and systemd cgroups fail on hosts with hybrid cgroups and no systemd), and
# explicit limits on open files and processes (podman's defaults for root exceed the hard limits
# of hosts that deny CAP_SYS_RESOURCE, and the container would not start).
set -euo pipefail
case ${1:-} in
  build | run) set -- "$1" --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 "${@:2}" ;;
esac
exec podman --runtime runc --cgroup-manager cgroupfs "$@"
