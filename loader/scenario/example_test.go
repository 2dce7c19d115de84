package scenario_test

import (
	"fmt"

	"github.com/perfbase/perfbase/loader/scenario"
)

func ExampleParse() {
	s, err := scenario.Parse([]byte(`
name: checkout
target: http://127.0.0.1:8080
interfaces:
  - {name: query_balance, path: /api/balance}
  - {name: recharge, method: post, path: /api/recharge, timeout: 1s}
stages:
  - {duration: 10s, rate: 50, warmup: true}
  - {duration: 1m, rate: 200}
thresholds:
  "*": {p99: 500ms}
  recharge: {p99: 800ms, business_success: 0.99}
`), "checkout.yml")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s)
	for _, i := range s.Interfaces {
		fmt.Println(i.Name, i.Method, s.URL(i), i.Timeout)
	}

	// A bad file reports every problem at once, with its place.
	_, err = scenario.Parse([]byte(`
name: checkout
target: http://127.0.0.1:8080
interfaces: [{name: Recharge, path: /api/recharge}]
stages: [{duration: 1m, rate: 0}]
`), "bad.yml")
	fmt.Println(err)
	// Output:
	// checkout (mixed, 2 interfaces, 1m10s)
	// query_balance GET http://127.0.0.1:8080/api/balance 5s
	// recharge POST http://127.0.0.1:8080/api/recharge 1s
	// bad.yml:4:15: interfaces[0].name: "Recharge" is not a valid interface name: want [a-z][a-z0-9_]*
	// bad.yml:5:25: stages[0].rate: must be positive, not 0
}
