#!/usr/bin/env sh
# The README's screenshots are the snapshot tests' baselines, turned into PNG:
# run `python -m pytest tests/test_snapshots.py --snapshot-update`, look at the
# report, then run this (it needs rsvg-convert, from librsvg).
set -eu
cd "$(dirname "$0")"
baselines=../tests/__snapshots__/test_snapshots
rsvg-convert -b '#1e1e1e' "$baselines/test_the_live_tab_on_demo_data.svg" -o live-demo.png
rsvg-convert -b '#1e1e1e' "$baselines/test_the_live_tab_when_the_api_fails.svg" \
    -o live-sync-failed.png
rsvg-convert -b '#1e1e1e' "$baselines/test_the_budget_tab_after_an_alert.svg" \
    -o budget-alert.png
rsvg-convert -b '#1e1e1e' "$baselines/test_the_analytics_tab_on_demo_data.svg" \
    -o analytics-demo.png
