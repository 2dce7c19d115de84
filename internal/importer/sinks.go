package importer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/perfbase/perfbase/internal/exposition"

	"github.com/golang/snappy"
	"github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/perfbase/perfbase/internal/store"
)

// Destination receives whole runs. Begin starts one; the run's samples
// go to the returned RunSink, which is then committed or aborted.
type Destination interface {
	Begin(ctx context.Context, runID string) (RunSink, error)
	// Close finishes the destination (e.g. writes the OpenMetrics file);
	// commit says whether every run succeeded.
	Close(ctx context.Context, commit bool) error
}

// RunSink receives one run's samples.
type RunSink interface {
	Sink
	// Commit makes the run visible, and describes where it went.
	Commit(ctx context.Context) (string, error)
	// Abort drops what was not committed; the returned text says what, if
	// anything, could not be taken back (remote servers).
	Abort() string
}

// --- embedded store -----------------------------------------------------

// StoreDestination writes each run into the embedded store as one block,
// atomically.
type StoreDestination struct{ DB *store.DB }

type storeSink struct {
	ctx context.Context
	b   *store.Bulk
}

func (d StoreDestination) Begin(ctx context.Context, _ string) (RunSink, error) {
	b, err := d.DB.NewBulk(ctx)
	if err != nil {
		return nil, err
	}
	return &storeSink{ctx: ctx, b: b}, nil
}

func (d StoreDestination) Close(context.Context, bool) error { return nil }

func (s *storeSink) Append(ls labels.Labels, t int64, v float64) error {
	return s.b.Append(s.ctx, ls, t, v)
}

func (s *storeSink) Commit(ctx context.Context) (string, error) {
	id, err := s.b.Commit(ctx)
	if err != nil {
		return "", err
	}
	return "block " + id, nil
}

func (s *storeSink) Abort() string {
	_ = s.b.Rollback()
	return ""
}

// --- OpenMetrics file ---------------------------------------------------

// OpenMetricsDestination writes every run into one OpenMetrics text file
// for `promtool tsdb create-blocks-from openmetrics`: sample lines with
// timestamps in seconds and no metadata, ending with "# EOF". It is
// written to a temporary file renamed into place only when every run
// succeeded, so a failed import leaves no partial file.
type OpenMetricsDestination struct {
	path string
	tmp  *os.File
	w    *bufio.Writer
	runs int
}

// NewOpenMetricsDestination creates the temporary file next to path.
func NewOpenMetricsDestination(path string) (*OpenMetricsDestination, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("openmetrics: %w", err)
	}
	return &OpenMetricsDestination{path: path, tmp: tmp, w: bufio.NewWriterSize(tmp, 1<<20)}, nil
}

func (d *OpenMetricsDestination) Begin(context.Context, string) (RunSink, error) {
	return &omSink{d: d}, nil
}

func (d *OpenMetricsDestination) Close(_ context.Context, commit bool) error {
	defer func() { _ = os.Remove(d.tmp.Name()) }() // fails, as it should, after a successful rename
	if !commit {
		_ = d.tmp.Close() // discarded: nothing of it is kept
		return nil
	}
	if _, err := d.w.WriteString(exposition.EOF); err != nil {
		return fmt.Errorf("openmetrics: write %s: %w", d.path, errors.Join(err, d.tmp.Close()))
	}
	if err := d.w.Flush(); err != nil {
		return fmt.Errorf("openmetrics: write %s: %w", d.path, errors.Join(err, d.tmp.Close()))
	}
	if err := d.tmp.Close(); err != nil {
		return fmt.Errorf("openmetrics: write %s: %w", d.path, err)
	}
	if err := os.Chmod(d.tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("openmetrics: %w", err)
	}
	if err := os.Rename(d.tmp.Name(), d.path); err != nil {
		return fmt.Errorf("openmetrics: %w", err)
	}
	return nil
}

// omSink writes straight into the shared file; an aborted run makes the
// whole destination abort (the importer closes it with commit=false).
type omSink struct {
	d   *OpenMetricsDestination
	buf []byte
}

func (s *omSink) Append(ls labels.Labels, t int64, v float64) error {
	s.buf = exposition.AppendSample(s.buf[:0], exposition.OpenMetrics, ls, t, v)
	_, err := s.d.w.Write(s.buf)
	return err
}

func (s *omSink) Commit(context.Context) (string, error) {
	s.d.runs++
	return "written to " + s.d.path + " (when all runs succeed)", nil
}

func (s *omSink) Abort() string { return "" }

// --- remote write and VictoriaMetrics import ----------------------------

// batchSamples is how many samples go into one remote request.
const batchSamples = 20_000

// HTTPDestination sends runs to a server as they are read: Prometheus
// remote write (protobuf + snappy), or VictoriaMetrics' import API
// (Prometheus text with millisecond timestamps). A server keeps what it
// accepted: on error, the error says how much of the run was sent.
type HTTPDestination struct {
	kind   string // "remote-write" or "vm-import"
	url    string
	name   string // url without credentials, for messages
	client *http.Client
}

// NewRemoteWriteDestination posts to a remote-write endpoint, e.g.
// http://prometheus:9090/api/v1/write (Prometheus needs
// --web.enable-remote-write-receiver and an out_of_order_time_window
// covering the data's age).
func NewRemoteWriteDestination(u string, cfg config.HTTPClientConfig) (*HTTPDestination, error) {
	return newHTTPDestination("remote-write", u, cfg)
}

// NewVMImportDestination posts to VictoriaMetrics at base URL u
// (http://victoria:8428), on /api/v1/import/prometheus, and asks it to
// flush at the end so the data is queryable at once.
func NewVMImportDestination(u string, cfg config.HTTPClientConfig) (*HTTPDestination, error) {
	return newHTTPDestination("vm-import", u, cfg)
}

func newHTTPDestination(kind, u string, cfg config.HTTPClientConfig) (*HTTPDestination, error) {
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return nil, fmt.Errorf("%s: URL must be http(s)://host[:port][/path]", kind)
	}
	c, err := config.NewClientFromConfig(cfg, "perfbase-import")
	if err != nil {
		return nil, fmt.Errorf("%s: HTTP client config: %w", kind, err)
	}
	c.Timeout = 2 * time.Minute
	return &HTTPDestination{kind: kind, url: strings.TrimSuffix(u, "/"), name: pu.Redacted(), client: c}, nil
}

func (d *HTTPDestination) Begin(ctx context.Context, _ string) (RunSink, error) {
	return &httpSink{ctx: ctx, d: d}, nil
}

func (d *HTTPDestination) Close(ctx context.Context, commit bool) error {
	if d.kind != "vm-import" || !commit {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url+"/internal/force_flush", nil)
	if err != nil {
		return err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return fmt.Errorf("vm-import: force flush: %w", err)
	}
	resp.Body.Close()
	return nil
}

type httpSink struct {
	ctx     context.Context
	d       *HTTPDestination
	ts      []prompb.TimeSeries // remote write
	text    []byte              // vm import
	n       int
	sent    int
	lastT   int64
	sentT   int64
	scratch []byte
}

func (s *httpSink) Append(ls labels.Labels, t int64, v float64) error {
	if s.d.kind == "vm-import" {
		s.text = exposition.AppendSample(s.text, exposition.PrometheusText, ls, t, v)
	} else {
		pl := make([]prompb.Label, 0, ls.Len())
		ls.Range(func(l labels.Label) { pl = append(pl, prompb.Label{Name: l.Name, Value: l.Value}) })
		s.ts = append(s.ts, prompb.TimeSeries{Labels: pl, Samples: []prompb.Sample{{Value: v, Timestamp: t}}})
	}
	s.n++
	s.lastT = t
	if s.n >= batchSamples {
		return s.flush()
	}
	return nil
}

func (s *httpSink) flush() error {
	if s.n == 0 {
		return nil
	}
	var body []byte
	var target string
	h := http.Header{}
	if s.d.kind == "vm-import" {
		body, target = s.text, s.d.url+"/api/v1/import/prometheus"
		h.Set("Content-Type", "text/plain")
	} else {
		raw, err := (&prompb.WriteRequest{Timeseries: s.ts}).Marshal()
		if err != nil {
			return fmt.Errorf("remote-write: encode: %w", err)
		}
		s.scratch = snappy.Encode(s.scratch[:cap(s.scratch)], raw)
		body, target = s.scratch, s.d.url
		h.Set("Content-Type", "application/x-protobuf")
		h.Set("Content-Encoding", "snappy")
		h.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = h
	resp, err := s.d.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %s samples sent before this error: %w", s.d.kind, strconv.Itoa(s.sent), err)
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: server answered %s: %s (%d samples of this run were accepted before)", s.d.kind, resp.Status, strings.TrimSpace(string(msg)), s.sent)
	}
	s.sent += s.n
	s.sentT = s.lastT
	s.n = 0
	s.ts = s.ts[:0]
	s.text = s.text[:0]
	return nil
}

func (s *httpSink) Commit(context.Context) (string, error) {
	if err := s.flush(); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d samples sent to %s", s.sent, s.d.name), nil
}

func (s *httpSink) Abort() string {
	if s.sent == 0 {
		return ""
	}
	return fmt.Sprintf("%d samples (up to %s) were already accepted by %s and stay there", s.sent,
		time.UnixMilli(s.sentT).UTC().Format(time.RFC3339), s.d.name)
}
