package loader

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/perfbase/perfbase/loader/feed"
	"github.com/perfbase/perfbase/loader/scenario"
)

// DefaultUserAgent is sent when the scenario sets no User-Agent.
const DefaultUserAgent = "perfbase"

// sampleBody is how much of a failed response's body a failure sample keeps.
const sampleBody = 1024

// errExhausted: a data set the request needs has no row left (on_exhausted:
// stop); the request is not sent.
var errExhausted = errors.New("data set exhausted")

// sender sends one interface's (or one set-up step's) request. It goes
// straight to the shared Transport rather than through an http.Client:
// redirects are answered as they are (load goes to the configured target
// only), and the client's per-request bookkeeping is cost without use here.
type sender struct {
	rt      http.RoundTripper
	fast    *fasthttp.HostClient // plain-HTTP targets; rt otherwise
	fullURI string               // the static request's URI, for fast
	method  string
	url     *url.URL
	host    string      // the Host header: the URL's, or the user's own
	header  http.Header // shared, read-only: the transport never writes it
	body    []byte
	timeout time.Duration
	// keep bytes of the response are kept for business rules (and failure
	// samples); the rest is read and discarded so the connection is reused.
	keep int64

	// Templates, nil when the request is the same every time.
	path     *feed.Template // path and query, after the target's own path
	basePath string         // the target's path, before path
	headers  []headerTemplate
	bodyT    *feed.Template
	bodySize int            // bodyT's size hint
	sets     []int          // data sets the request takes rows from
	pickers  []*feed.Picker // by data set index
	setNames []string
	seq      atomic.Uint64
	// exhausted names the data set that ran out, once one has.
	exhausted atomic.Value
}

type headerTemplate struct {
	name string
	t    *feed.Template
}

// slot is a worker's reusable state: the kept body and template buffers.
type slot struct {
	buf     []byte
	path    []byte
	scratch []byte
	vals    feed.Values
}

// sent is what a failure sample needs of the request as it was sent.
type sent struct {
	url    string
	header http.Header
	body   []byte
}

// newSender prepares a request once; each send only fills in its
// templates. runID is put into the templates at once; pickers are shared
// by every request that reads their data set.
func newSender(s *scenario.Scenario, it scenario.Interface, rt http.RoundTripper, keep int64, runID string, pickers []*feed.Picker) (*sender, error) {
	u, err := url.Parse(s.Target)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", it.Name, err)
	}
	snd := &sender{rt: rt, method: it.Method, timeout: it.Timeout.D(), keep: keep, pickers: pickers, setNames: s.SetNames()}
	resolve := s.Resolver()
	compile := func(field, src string, e feed.Escape) (*feed.Template, error) {
		t, err := feed.Compile(src, e, runID, resolve)
		if err != nil {
			return nil, fmt.Errorf("interface %s: %s: %w", it.Name, field, err)
		}
		return t, nil
	}
	// The target's own path stays as written; the interface's path is the
	// template.
	snd.basePath = strings.TrimSuffix(u.EscapedPath(), "/")
	pt, err := compile("path", it.Path, feed.URL)
	if err != nil {
		return nil, err
	}
	full, _ := url.Parse(strings.TrimSuffix(s.Target, "/") + pt.Text()) // validated with the scenario
	if pt.Static() && full != nil {
		snd.url = full
	} else {
		snd.path = pt
		snd.url = &url.URL{Scheme: u.Scheme, Host: u.Host}
	}

	hdr := make(http.Header, len(it.Headers)+2)
	headers := maps.Clone(it.Headers)
	if headers == nil {
		headers = map[string]string{}
	}
	if s.Mark != nil {
		headers[s.Mark.Header] = s.Mark.Value
	}
	for _, k := range slices.Sorted(maps.Keys(headers)) {
		t, err := compile("headers."+k, headers[k], feed.Raw)
		if err != nil {
			return nil, err
		}
		if t.Static() {
			hdr.Set(k, t.Text())
			continue
		}
		snd.headers = append(snd.headers, headerTemplate{name: http.CanonicalHeaderKey(k), t: t})
	}
	if snd.path == nil {
		snd.fullURI = snd.url.String()
	}
	if _, set := hdr["User-Agent"]; !set {
		// The same over both HTTP clients, and says who sends the load.
		hdr.Set("User-Agent", DefaultUserAgent)
	}
	if u.User != nil && hdr.Get("Authorization") == "" {
		// Credentials in the target URL, as an http.Client would send them.
		pass, _ := u.User.Password()
		hdr.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pass)))
	}
	snd.host = u.Host
	if h := hdr.Get("Host"); h != "" {
		snd.host = h // net/http sends req.Host, never a Host header
		hdr.Del("Host")
	}
	snd.header = hdr
	bt, err := compile("body", it.Body, feed.Auto)
	if err != nil {
		return nil, err
	}
	if bt.Static() {
		snd.body = []byte(bt.Text())
	} else {
		snd.bodyT, snd.bodySize = bt, bt.SizeHint()
	}
	seen := map[int]bool{}
	for _, t := range append([]*feed.Template{snd.path, snd.bodyT}, headerTemplatesOf(snd.headers)...) {
		if t == nil {
			continue
		}
		for _, i := range t.Sets() {
			if !seen[i] {
				seen[i] = true
				snd.sets = append(snd.sets, i)
			}
		}
	}
	return snd, nil
}

func headerTemplatesOf(hs []headerTemplate) []*feed.Template {
	out := make([]*feed.Template, len(hs))
	for i, h := range hs {
		out[i] = h.t
	}
	return out
}

// response is what the engine keeps of one exchange.
type response struct {
	code    int // 0 when the transport failed
	err     error
	body    []byte // up to keep bytes, in the worker's buffer
	header  http.Header
	latency time.Duration
	req     *sent // for a failure sample; nil unless asked for
}

// do renders and sends the request and reads the response within the
// timeout. beforeSend is called once the request is ready to go, not when
// it is not sent (a data set ran out). ctx ends early only when the user
// insists on quitting. withReq keeps what was sent, for failure samples.
func (s *sender) do(ctx context.Context, sl *slot, beforeSend func(), withReq bool) response {
	req := &http.Request{
		Method:     s.method,
		URL:        s.url,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     s.header,
		Host:       s.host,
	}
	body := s.body
	if len(s.sets) > 0 || s.path != nil || len(s.headers) > 0 || s.bodyT != nil {
		if err := s.render(req, sl, &body); err != nil {
			return response{err: err}
		}
	}
	if s.fast != nil {
		var r response
		if withReq {
			r.req = &sent{url: requestURL(req.URL), header: req.Header, body: body}
		}
		beforeSend()
		s.fastDo(req, body, sl, &r)
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req = req.WithContext(ctx)
	if len(body) > 0 {
		req.ContentLength = int64(len(body))
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	var r response
	if withReq {
		r.req = &sent{url: requestURL(req.URL), header: req.Header, body: body}
	}
	beforeSend()
	began := time.Now()
	res, err := s.rt.RoundTrip(req)
	if err != nil {
		r.err, r.latency = err, time.Since(began)
		return r
	}
	r.code, r.header = res.StatusCode, res.Header
	if s.keep > 0 {
		r.body, err = readUpTo(res.Body, sl.buf[:0], s.keep)
	}
	if err == nil {
		_, err = io.Copy(io.Discard, res.Body)
	}
	_ = res.Body.Close() // the body was read to its end or failed: nothing more to learn
	r.latency = time.Since(began)
	if err != nil {
		// A body cut short (timeout, reset) is a transport failure, as
		// a client of the interface would see it.
		r.code, r.err = 0, err
	}
	return r
}

// requestURL writes a URL as it was requested; url.String would write a
// rendered path (kept in Opaque) as scheme:path.
func requestURL(u *url.URL) string {
	if u.Opaque == "" {
		return u.String()
	}
	s := u.Scheme + "://" + u.Host + u.Opaque
	if u.RawQuery != "" {
		s += "?" + u.RawQuery
	}
	return s
}

// render fills in one request's templates: the next row of each data set
// it uses, its sequence number and UUID.
func (s *sender) render(req *http.Request, sl *slot, body *[]byte) error {
	if len(sl.vals.Rows) < len(s.pickers) {
		sl.vals.Rows = make([][]string, len(s.pickers))
	}
	for _, i := range s.sets {
		row, ok := s.pickers[i].Next()
		if !ok {
			s.exhausted.CompareAndSwap(nil, s.setNames[i])
			return errExhausted
		}
		sl.vals.Rows[i] = s.pickers[i].Set().Row(row)
	}
	sl.vals.Reset(s.seq.Add(1))
	if s.path != nil {
		sl.path = append(sl.path[:0], s.basePath...)
		sl.path = s.path.Render(sl.path, &sl.vals)
		u := *s.url
		p, q, _ := strings.Cut(string(sl.path), "?")
		u.Opaque, u.RawQuery = p, q
		req.URL = &u
	}
	if len(s.headers) > 0 {
		// A new map per request (the transport may still read the last
		// one), sharing the static values' slices, which nobody writes.
		h := make(http.Header, len(s.header)+len(s.headers))
		for k, v := range s.header {
			h[k] = v
		}
		for _, ht := range s.headers {
			sl.scratch = ht.t.Render(sl.scratch[:0], &sl.vals)
			h[ht.name] = []string{string(sl.scratch)}
		}
		req.Header = h
	}
	if s.bodyT != nil {
		// A new slice per request, allocated once at about its size.
		*body = s.bodyT.Render(make([]byte, 0, s.bodySize), &sl.vals)
	}
	return nil
}

// readUpTo appends at most n bytes of r to buf.
func readUpTo(r io.Reader, buf []byte, n int64) ([]byte, error) {
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		end := min(int64(cap(buf)), n)
		m, err := r.Read(buf[len(buf):end])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}
