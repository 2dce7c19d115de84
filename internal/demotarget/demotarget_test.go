package demotarget

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfbase/perfbase/loader/scenario"
)

func TestServerAnswersAndDegrades(t *testing.T) {
	t.Parallel()
	s := New()
	var mu sync.Mutex
	var slept []time.Duration
	s.sleep = func(d time.Duration) { mu.Lock(); slept = append(slept, d); mu.Unlock() }
	srv := httptest.NewServer(s)
	defer srv.Close()

	count := func(path, method string, n int) (codes map[string]int, statuses map[int]int) {
		codes, statuses = map[string]int{}, map[int]int{}
		for range n {
			req, _ := http.NewRequest(method, srv.URL+path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body struct{ Code string }
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("%s %s: %s: %v", method, path, resp.Status, err)
			}
			statuses[resp.StatusCode]++
			codes[body.Code]++
		}
		return codes, statuses
	}
	codes, _ := count("/api/balance", http.MethodGet, 400)
	if codes["0000"] < 380 {
		t.Errorf("healthy balance: %d of 400 ok, want most", codes["0000"])
	}
	mu.Lock()
	var sum time.Duration
	for _, d := range slept {
		sum += d
	}
	healthyMean := sum / time.Duration(len(slept))
	slept = nil
	mu.Unlock()

	resp, err := http.PostForm(srv.URL+"/-/degrade", url.Values{"slowdown": {"3"}, "extra_business_errors": {"0.5"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("degrade: %s", resp.Status)
	}
	codes, statuses := count("/api/balance", http.MethodGet, 400)
	if codes["1001"] < 150 || codes["1001"] > 250 {
		t.Errorf("degraded balance: %d of 400 business failures, want about 200", codes["1001"])
	}
	if statuses[200]+statuses[503] != 400 {
		t.Errorf("statuses %v", statuses)
	}
	mu.Lock()
	sum = 0
	for _, d := range slept {
		sum += d
	}
	degradedMean := sum / time.Duration(len(slept))
	mu.Unlock()
	if r := float64(degradedMean) / float64(healthyMean); r < 2.5 || r > 3.5 {
		t.Errorf("slowdown 3 changed the mean latency by %.2fx", r)
	}
}

func TestServerRejects(t *testing.T) {
	t.Parallel()
	s := New()
	s.sleep = func(time.Duration) {}
	srv := httptest.NewServer(s)
	defer srv.Close()
	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{http.MethodGet, "/nope", "", 404},
		{http.MethodGet, "/api/recharge", "", 405},
		{http.MethodPost, "/-/degrade", "slowdown=-1", 400},
		{http.MethodPost, "/-/degrade", "extra_system_errors=2", 400},
		{http.MethodPost, "/-/degrade", "slowdown=abc", 400},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s %q: %d, want %d", tc.method, tc.path, tc.body, resp.StatusCode, tc.want)
		}
	}
}

func TestScenarioParses(t *testing.T) {
	t.Parallel()
	s, err := scenario.Parse(Scenario("http://127.0.0.1:1"), "demo.yml")
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]bool{}
	for _, e := range Endpoints() {
		paths[e.Path] = true
	}
	for _, it := range s.Interfaces {
		if !paths[it.Path] {
			t.Errorf("interface %s calls %s, which the demo target does not serve", it.Name, it.Path)
		}
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	ratio := func(f float64) *float64 { return &f }
	s, err := NewWithOptions(Options{Latency: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, SystemFailureRatio: ratio(0.05), BusinessFailureRatio: ratio(0.1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range s.endpoints {
		if e.Median != 20*time.Millisecond || e.SystemErrorRate != 0.05 || e.BusinessErrorRate != 0.1 {
			t.Errorf("%s: %+v", e.Path, e)
		}
		if want := 0.2231; e.Sigma < want-0.001 || e.Sigma > want+0.001 {
			t.Errorf("%s: sigma %g, want ln(1.25)", e.Path, e.Sigma)
		}
	}
	for name, o := range map[string]Options{
		"negative latency":  {Latency: -time.Second},
		"jitter alone":      {Jitter: time.Millisecond},
		"ratio above one":   {SystemFailureRatio: ratio(1.5)},
		"negative business": {BusinessFailureRatio: ratio(-0.1)},
	} {
		if _, err := NewWithOptions(o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
