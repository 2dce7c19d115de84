// Package testservers starts the real Prometheus-ecosystem servers installed
// on the machine (Debian packages: prometheus, promtool,
// prometheus-alertmanager, victoria-metrics, prometheus-pushgateway) for
// integration tests.
//
// Each server listens on 127.0.0.1 on a free port, keeps its data in a
// t.TempDir(), is waited for until its readiness endpoint answers, and is
// killed when the test ends. Its output goes to a log file in Dir that is
// printed with t.Log when the test fails, so a failing integration test shows
// what the server said.
//
// A missing binary skips the test, unless the CI environment variable is
// "true": there a missing server is a broken machine and fails the test.
//
//	func TestAgainstPrometheus(t *testing.T) {
//		srv := testservers.Prometheus(t, "global: {scrape_interval: 1s}\n")
//		resp, err := http.Get(srv.URL + "/api/v1/query?query=up")
//		...
//	}
package testservers
