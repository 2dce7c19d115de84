package loader

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/perfbase/perfbase/loader/scenario"
)

// Plain-HTTP targets are sent to through fasthttp's HostClient: it writes
// the request and reads the response in the calling worker, where
// net/http hands each request to a connection's writer and reader
// goroutines; at the maximum rate that costs perfbase about a third of
// its CPU (BENCHMARKS.md). HTTPS targets keep net/http, which negotiates
// HTTP/2.

// newFastClient returns the HostClient of a plain-HTTP target, or nil for
// other schemes. It never retries (every request is sent and counted
// once), never follows redirects, never uses a proxy, adds no User-Agent,
// and keeps paths as written.
func newFastClient(s *scenario.Scenario) *fasthttp.HostClient {
	u, err := url.Parse(s.Target)
	if err != nil || u.Scheme != "http" {
		return nil
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	dialer := &net.Dialer{KeepAlive: 30 * time.Second}
	return &fasthttp.HostClient{
		Addr: addr,
		DialTimeout: func(addr string, timeout time.Duration) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			return dialer.DialContext(ctx, "tcp", addr)
		},
		// Each worker holds at most one connection: the engine's pools
		// bound them, per interface.
		MaxConns:                      s.Defaults.MaxInFlight * len(s.Interfaces),
		MaxIdleConnDuration:           90 * time.Second,
		MaxIdemponentCallAttempts:     1,
		RetryIfErr:                    func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true, // http.Header keys are canonical already
		DisablePathNormalizing:        true,
	}
}

// fastDo sends req (its URL, header and body as rendered) with fasthttp.
func (s *sender) fastDo(req *http.Request, body []byte, sl *slot, r *response) {
	fr := fasthttp.AcquireRequest()
	res := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(fr)
	defer fasthttp.ReleaseResponse(res)
	fr.Header.SetMethod(s.method)
	// Only the headers the scenario sets, as net/http sends them: no
	// default Content-Type for a body.
	fr.Header.SetNoDefaultContentType(true)
	if req.URL == s.url && s.fullURI != "" {
		fr.SetRequestURI(s.fullURI)
	} else {
		fr.SetRequestURI(s.url.Scheme + "://" + s.host + req.URL.RequestURI())
	}
	fr.Header.SetHost(s.host)
	fr.UseHostHeader = true
	for k, vs := range req.Header {
		for _, v := range vs {
			fr.Header.Add(k, v)
		}
	}
	if len(body) > 0 {
		fr.SetBodyRaw(body)
	}
	began := time.Now()
	err := s.fast.DoTimeout(fr, res, s.timeout)
	r.latency = time.Since(began)
	if err != nil {
		r.err = fastError(err)
		return
	}
	r.code = res.StatusCode()
	if s.keep > 0 {
		b := res.Body()
		sl.buf = append(sl.buf[:0], b[:min(len(b), int(s.keep))]...)
		r.body = sl.buf
	}
	if r.req != nil { // failure samples are on: keep the response headers
		r.header = http.Header{}
		for k, v := range res.Header.All() {
			r.header.Add(string(k), string(v))
		}
	}
}

// fastError names fasthttp's timeouts as such, for the failure reasons.
func fastError(err error) error {
	if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrDialTimeout) {
		return fmt.Errorf("timeout: %w", err)
	}
	return err
}
