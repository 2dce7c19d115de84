package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// Dashboard is one generated dashboard and its file name.
type Dashboard struct {
	File      string
	UID       string
	Dashboard dashboard.Dashboard
}

// Build builds every dashboard.
func Build(o Options) ([]Dashboard, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	builders := []struct {
		file string
		b    *dashboard.DashboardBuilder
	}{
		{"perfbase-overview.json", Overview(o)},
		{"perfbase-monthly-trend.json", Trend(o)},
		{"perfbase-run-comparison.json", Compare(o)},
	}
	var out []Dashboard
	var errs []error
	for _, b := range builders {
		d, err := b.b.Build()
		if err != nil {
			errs = append(errs, fmt.Errorf("could not build %s: %w", b.file, err))
			continue
		}
		uid := ""
		if d.Uid != nil {
			uid = *d.Uid
		}
		out = append(out, Dashboard{File: b.file, UID: uid, Dashboard: d})
	}
	return out, errors.Join(errs...)
}

// Marshal returns the dashboard JSON as Grafana stores it, indented, with
// a final newline.
func Marshal(d dashboard.Dashboard) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("could not encode dashboard: %w", err)
	}
	return b.Bytes(), nil
}

// WriteDir writes every dashboard into dir and returns the paths.
func WriteDir(dir string, ds []Dashboard) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("could not create output directory: %w", err)
	}
	var paths []string
	for _, d := range ds {
		data, err := Marshal(d.Dashboard)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.File, err)
		}
		p := filepath.Join(dir, d.File)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return nil, fmt.Errorf("could not write %s: %w", p, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
