#!/usr/bin/env bash
# podman with settings that work on every host this project builds on, CI included: runc and
# cgroupfs (crun and systemd cgroups fail on hosts with hybrid cgroups and no systemd), and
# explicit limits on open files and processes (podman's defaults for root exceed the hard limits
# of hosts that deny CAP_SYS_RESOURCE, and the container would not start). Open files: this
# host's own hard limit, at most Kubernetes' usual 1048576 (containerd's LimitNOFILE): the server
# needs MAX_CONNECTIONS + 64 of them (function/README.md), more than a fixed 4096.
set -euo pipefail
files=$(ulimit -Hn)
if [[ $files == unlimited ]] || ((files > 1048576)); then files=1048576; fi
case ${1:-} in
  build | run) set -- "$1" --ulimit "nofile=$files:$files" --ulimit nproc=4096:4096 "${@:2}" ;;
esac
exec podman --runtime runc --cgroup-manager cgroupfs "$@"
