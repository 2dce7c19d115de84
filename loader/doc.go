// Package loader drives HTTP load against a scenario's business interfaces
// with github.com/tsenart/vegeta/v12 as the request engine.
//
// Open-loop stages pace arrivals (constant rate, linear ramp, burst) per
// interface, each with its weighted share of the stage rate; closed-loop
// stages run a fixed number of virtual users. Every scheduled request is
// accounted for exactly once: it completes with an Outcome, or it is counted
// as dropped when it could not be sent within the scenario's lateness.
//
// The loader records into the Recorder interface it declares with standard
// types only; it never imports the exporter. It keeps its own compact
// statistics for the live progress view, the guard and the end-of-run
// summary, so a run works the same whatever records its metrics.
package loader
