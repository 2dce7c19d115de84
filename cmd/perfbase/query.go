package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/common/model"

	"github.com/perfbase/perfbase/internal/backend"
)

// QueryCmd runs PromQL against the embedded store or a remote server.
type QueryCmd struct {
	Expr string `arg:"" help:"PromQL expression."`

	Time  string        `help:"Evaluation time of an instant query: RFC 3339, Unix seconds, 'now' or 'now-1h'." default:"now"`
	Start string        `help:"Start of a range query (same forms as --time); makes it a range query."`
	End   string        `help:"End of a range query." default:"now"`
	Step  time.Duration `help:"Step of a range query; default: the range / 250, at least 1s."`

	URL            string        `name:"url" help:"Prometheus-compatible server (Prometheus, VictoriaMetrics, Thanos, Mimir); empty = the embedded store."`
	HTTPConfigFile string        `name:"http-config-file" help:"HTTP client config (auth, TLS) for --url, in Prometheus' http_config YAML." type:"existingfile"`
	DataDir        string        `name:"data-dir" help:"Embedded store directory." default:"perfbase-data" type:"path"`
	Timeout        time.Duration `help:"Query timeout." default:"2m"`
	Format         string        `help:"Output: table or json (the Prometheus API's data object)." default:"table" enum:"table,json"`
}

// Help shows examples under the flags.
func (c *QueryCmd) Help() string {
	return `Examples:
  perfbase query 'sum by (interface, outcome) (perfbase_requests_total)'
  perfbase query --start now-6h --step 1m 'sum by (interface) (rate(perfbase_requests_total[1m]))'
  perfbase query --url http://prometheus:9090 --format json 'perfbase_run_info'`
}

// Run executes the query and prints the result.
func (c *QueryCmd) Run(g *Globals) (err error) {
	now := time.Now()
	var start, end, ts time.Time
	if c.Start != "" {
		if start, err = parseTime(c.Start, now); err != nil {
			return badInput(fmt.Errorf("--start: %w", err))
		}
		if end, err = parseTime(c.End, now); err != nil {
			return badInput(fmt.Errorf("--end: %w", err))
		}
		if !end.After(start) {
			return badInput(fmt.Errorf("--end %s must be after --start %s", end.Format(time.RFC3339), start.Format(time.RFC3339)))
		}
		if c.Step < 0 {
			return badInput(fmt.Errorf("--step must be positive, got %s", c.Step))
		}
		if c.Step == 0 {
			c.Step = max(time.Second, (end.Sub(start) / 250).Truncate(time.Second))
		}
	} else if ts, err = parseTime(c.Time, now); err != nil {
		return badInput(fmt.Errorf("--time: %w", err))
	}

	b, err := backend.Open(backend.Options{URL: c.URL, HTTPConfigFile: c.HTTPConfigFile, DataDir: c.DataDir, Timeout: c.Timeout, Logger: g.Logger, ReadOnly: true})
	if err != nil {
		return err
	}
	defer closeInto(&err, b, b.Name())

	var v model.Value
	if c.Start != "" {
		v, err = b.QueryRange(g.Context(), c.Expr, start, end, c.Step)
	} else {
		v, err = b.Query(g.Context(), c.Expr, ts)
	}
	if err != nil {
		if backend.IsType(err, backend.ErrBadQuery) {
			return badInput(err)
		}
		return err
	}
	if c.Format == "json" {
		return writeJSON(g.Stdout, v)
	}
	return writeTable(g.Stdout, v)
}

// parseTime reads RFC 3339, Unix seconds (with fraction), "now" and
// "now-DURATION"/"now+DURATION".
func parseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "now" {
		return now, nil
	}
	if rest, ok := strings.CutPrefix(s, "now"); ok {
		d, err := time.ParseDuration(rest)
		if err != nil {
			md, merr := model.ParseDuration(strings.TrimPrefix(rest, "-"))
			if merr != nil {
				return time.Time{}, fmt.Errorf("%q: want now-DURATION like now-1h or now-30d: %w", s, err)
			}
			d = time.Duration(md)
			if strings.HasPrefix(rest, "-") {
				d = -d
			}
		}
		return now.Add(d), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not RFC 3339, Unix seconds or now[-+]DURATION", s)
	}
	return t, nil
}

func writeJSON(w io.Writer, v model.Value) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		ResultType string      `json:"resultType"`
		Result     model.Value `json:"result"`
	}{v.Type().String(), v})
}

func writeTable(w io.Writer, v model.Value) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	switch v := v.(type) {
	case model.Vector:
		sort.Slice(v, func(i, j int) bool { return v[i].Metric.String() < v[j].Metric.String() })
		fmt.Fprintln(tw, "SERIES\tVALUE")
		for _, s := range v {
			fmt.Fprintf(tw, "%s\t%s\n", seriesName(s.Metric), formatValue(float64(s.Value)))
		}
		if len(v) == 0 {
			fmt.Fprintln(tw, "(no series)")
		}
	case model.Matrix:
		sort.Sort(v)
		fmt.Fprintln(tw, "SERIES\tTIME\tVALUE")
		for _, ss := range v {
			name := seriesName(ss.Metric)
			for _, p := range ss.Values {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", name, p.Timestamp.Time().UTC().Format(time.RFC3339), formatValue(float64(p.Value)))
			}
		}
		if len(v) == 0 {
			fmt.Fprintln(tw, "(no series)")
		}
	case *model.Scalar:
		fmt.Fprintf(tw, "VALUE\n%s\n", formatValue(float64(v.Value)))
	case *model.String:
		fmt.Fprintf(tw, "VALUE\n%s\n", v.Value)
	default:
		return errors.New("query: unexpected result type " + v.Type().String())
	}
	return tw.Flush()
}

func seriesName(m model.Metric) string {
	if len(m) == 0 {
		return "{}"
	}
	return m.String()
}

// formatValue prints counts as integers and everything else in the
// shortest form that reads back as the same float.
func formatValue(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
