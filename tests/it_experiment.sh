#!/usr/bin/env bash
# A short run of the whole experiment (demo/experiment): every holder
# agent, every app, grants, revocations, expiry, export, erasure, and all
# of the experiment's own checks.
set -u
exec bash "$(dirname "$0")/../demo/experiment" --users 6 --seed 3 --duration 6 --quiet
