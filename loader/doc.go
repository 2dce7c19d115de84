// Package loader drives HTTP load against a scenario's business interfaces.
//
// Open-loop stages pace arrivals (constant rate, linear ramp, burst) per
// interface with vegeta pacers (github.com/tsenart/vegeta/v12), each with its
// weighted share of the stage rate, and hand them to a bounded pool of
// workers sized by Little's law; closed-loop stages run a fixed number of
// virtual users. Every scheduled request is accounted for exactly once: it
// completes with an Outcome, or it is counted as dropped when it could not be
// sent within the scenario's lateness. A stop (Ctrl-C, the guard, a stage's
// end) sends nothing more.
//
// Requests can take per-request data from data sets through templates
// (package feed), carry a traffic mark, and be framed by set-up and teardown
// steps; failed ones can be sampled (FailureSamples). Plain-HTTP targets are
// sent to with fasthttp's client, HTTPS ones with net/http.
//
// The loader records into the Recorder interface it declares with standard
// types only; it never imports the exporter. It keeps its own compact
// statistics for the live progress view, the guard and the end-of-run
// summary, and watches its own health (lag, workers, CPU starvation), so a
// run works the same whatever records its metrics and says when the
// generator, not the target, limited it.
package loader
