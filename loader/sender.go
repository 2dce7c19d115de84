package loader

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/perfbase/perfbase/loader/scenario"
)

// sender sends one interface's request. It goes straight to the shared
// Transport rather than through an http.Client: redirects are answered as
// they are (load goes to the configured target only), and the client's
// per-request bookkeeping is cost without use here.
type sender struct {
	rt      http.RoundTripper
	method  string
	url     *url.URL
	host    string      // the Host header: the URL's, or the user's own
	header  http.Header // shared, read-only: the transport never writes it
	body    []byte
	timeout time.Duration
	// maxBody bytes of the response are kept for business rules; 0 keeps
	// none. The rest is read and discarded so the connection is reused.
	maxBody int64
}

// newSender prepares an interface's request once; each send only wraps it.
func newSender(s *scenario.Scenario, it scenario.Interface, rt http.RoundTripper, business bool) (*sender, error) {
	u, err := url.Parse(s.URL(it))
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", it.Name, err)
	}
	hdr := make(http.Header, len(it.Headers))
	for k, v := range it.Headers {
		hdr.Set(k, v)
	}
	host := u.Host
	if h := hdr.Get("Host"); h != "" {
		host = h // net/http sends req.Host, never a Host header
		hdr.Del("Host")
	}
	snd := &sender{rt: rt, method: it.Method, url: u, host: host, header: hdr, body: []byte(it.Body), timeout: it.Timeout.D()}
	if business {
		snd.maxBody = s.Defaults.MaxBody // else the body is drained but not kept
	}
	return snd, nil
}

// response is what the engine keeps of one exchange.
type response struct {
	code    int // 0 when the transport failed
	err     error
	body    []byte // up to maxBody bytes, in the worker's buffer
	latency time.Duration
}

// do sends the request and reads the response within the timeout. buf is
// the worker's own buffer for the kept part of the body. ctx ends early
// only when the user insists on quitting.
func (s *sender) do(ctx context.Context, buf []byte) response {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req := (&http.Request{
		Method:     s.method,
		URL:        s.url,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     s.header,
		Host:       s.host,
	}).WithContext(ctx)
	if len(s.body) > 0 {
		req.ContentLength = int64(len(s.body))
		req.Body = io.NopCloser(bytes.NewReader(s.body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(s.body)), nil }
	}
	began := time.Now()
	res, err := s.rt.RoundTrip(req)
	if err != nil {
		return response{err: err, latency: time.Since(began)}
	}
	r := response{code: res.StatusCode}
	if s.maxBody > 0 {
		r.body, err = readUpTo(res.Body, buf[:0], s.maxBody)
	}
	if err == nil {
		_, err = io.Copy(io.Discard, res.Body)
	}
	_ = res.Body.Close() // the body was read to its end or failed: nothing more to learn
	r.latency = time.Since(began)
	if err != nil {
		// A body cut short (timeout, reset) is a transport failure, as
		// a client of the interface would see it.
		r.code, r.err, r.body = 0, err, nil
	}
	return r
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
