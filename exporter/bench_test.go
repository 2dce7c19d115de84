package exporter

import (
	"testing"
	"time"

	"github.com/perfbase/perfbase/loader"
)

// BenchmarkRecord measures what recording one request costs on the hot
// path (Sent + Done of a success), with each metrics library:
//
//	go test -run '^$' -bench Record -benchmem ./exporter/
func BenchmarkRecord(b *testing.B) {
	for _, lib := range []struct {
		name string
		new  func() (loader.Recorder, error)
	}{
		{"client_golang", func() (loader.Recorder, error) { return New(Options{RunID: "bench"}) }},
		{"client_golang_native", func() (loader.Recorder, error) {
			return New(Options{RunID: "bench", NativeHistograms: true})
		}},
		{"victoriametrics", func() (loader.Recorder, error) { return NewVM(Options{RunID: "bench"}) }},
	} {
		b.Run(lib.name, func(b *testing.B) {
			rec, err := lib.new()
			if err != nil {
				b.Fatal(err)
			}
			r := rec.Interface("query_balance")
			obs := loader.Observation{Outcome: loader.Success, Code: "0000", Latency: 12 * time.Millisecond}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r.Sent(false)
					r.Done(obs)
				}
			})
		})
	}
}
