// Command benchtarget is the zero-latency HTTP target of `make bench`: every
// request gets the same small JSON answer at once, so that what the
// benchmark measures is the load generator, not the service.
//
//	go build -o /tmp/benchtarget ./internal/benchtarget
//	taskset -c 1 /tmp/benchtarget -listen 127.0.0.1:18080
//
// It is not part of perfbase's command line: the demo target sleeps
// log-normal latencies on purpose, which caps any generator's throughput at
// its in-flight limit. Loopback only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// body is what every request gets: the business code perfbase's scenario
// rules read, as the demo target answers it.
var body = []byte(`{"code":"0000","balance":100}`)

func main() { os.Exit(run()) }

func run() int {
	listen := flag.String("listen", "127.0.0.1:18080", "address to serve on")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtarget:", err)
		return 2
	}
	srv := &http.Server{Handler: handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Fprintln(os.Stderr, "benchtarget: serving on", ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "benchtarget:", err)
		return 1
	}
	return 0
}

func handler() http.Handler {
	length := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read what was posted so that keep-alive connections stay usable.
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{length}
		_, _ = w.Write(body)
	})
}
