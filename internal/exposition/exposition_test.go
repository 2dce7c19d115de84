package exposition

import (
	"bytes"
	"math"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

func TestAppendSample(t *testing.T) {
	t.Parallel()
	ls := labels.FromStrings("__name__", "perfbase_requests_total", "interface", `a"b\c`+"\n"+"é", "le", "0.005")
	cases := []struct {
		f    Format
		t    int64
		v    float64
		want string
	}{
		{OpenMetrics, 1736899200123, 42, `perfbase_requests_total{interface="a\"b\\c\né",le="0.005"} 42 1736899200.123` + "\n"},
		{OpenMetrics, 1736899200000, 0.5, `perfbase_requests_total{interface="a\"b\\c\né",le="0.005"} 0.5 1736899200` + "\n"},
		{PrometheusText, 1736899200123, math.Inf(1), `perfbase_requests_total{interface="a\"b\\c\né",le="0.005"} +Inf 1736899200123` + "\n"},
	}
	for _, tc := range cases {
		if got := string(AppendSample(nil, tc.f, ls, tc.t, tc.v)); got != tc.want {
			t.Errorf("AppendSample(%v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}

// TestParsersReadItBack: what is written is what Prometheus' own parsers
// read, label values with every escaped character included.
func TestParsersReadItBack(t *testing.T) {
	t.Parallel()
	ls := labels.FromStrings("__name__", "x_total", "interface", `q"uo\te`+"\n"+"ü", "outcome", "success")
	om := append(AppendSample([]byte("# TYPE x counter\n"), OpenMetrics, ls, 1736899200250, 7), EOF...)
	p, err := textparse.New(om, "application/openmetrics-text", labels.NewSymbolTable(), textparse.ParserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got labels.Labels
	var ts int64
	for {
		e, err := p.Next()
		if err != nil {
			break
		}
		if e == textparse.EntrySeries {
			p.Labels(&got)
			_, tp, _ := p.Series()
			ts = *tp
		}
	}
	if !labels.Equal(got, ls) || ts != 1736899200250 {
		t.Fatalf("OpenMetrics read back %v at %d, wrote %v at 1736899200250", got, ts, ls)
	}
	tp := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := tp.TextToMetricFamilies(bytes.NewReader(AppendSample(nil, PrometheusText, ls, 1736899200250, 7)))
	if err != nil {
		t.Fatal(err)
	}
	m := mfs["x_total"].GetMetric()[0]
	if m.GetTimestampMs() != 1736899200250 || m.GetLabel()[0].GetValue() != ls.Get("interface") {
		t.Fatalf("text format read back %v", m)
	}
}
