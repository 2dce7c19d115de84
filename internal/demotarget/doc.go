// Package demotarget is a small business service to point perfbase at: a
// balance query, a bill query and a recharge, with realistic (log-normal)
// latencies, evenly spread system failures (HTTP 503) and business
// failures (HTTP 200 with a failing business code), and knobs to degrade it
// at run time so that regressions and alerts can be shown end to end.
//
// It binds to whatever address it is given; the perfbase commands that start
// it use loopback, and it is meant for demos and tests only.
//
// For `perfbase demo` it also holds the demo's months of history (History,
// WriteHistory), the safe reset of the demo's data dir and an in-process
// server on a free loopback port (Start).
package demotarget
