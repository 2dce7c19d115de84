package loader

import (
	"testing"

	"github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/loader/scenario"
)

func strp(s string) *string { return &s }

func TestClassify(t *testing.T) {
	t.Parallel()
	equals := &scenario.Expect{Status: []int{200}, Business: &scenario.BusinessRule{JSON: "code", Equals: strp("0000")}}
	nested := &scenario.Expect{Business: &scenario.BusinessRule{JSON: "result.code", In: []string{"0", "7"}}}
	regexBody := &scenario.Expect{Business: &scenario.BusinessRule{Regex: `"ok":\s*true`}}
	cases := []struct {
		name       string
		expect     *scenario.Expect
		code       uint16
		err        string
		body       string
		want       Outcome
		wantReason string
		wantCode   string
	}{
		{"default 2xx ok", nil, 204, "", "", Success, "", ""},
		{"default 3xx", nil, 302, "", "", SystemFailure, conventions.ReasonHTTPOther, ""},
		{"503", equals, 503, "503 Service Unavailable", "", SystemFailure, conventions.ReasonHTTP5xx, ""},
		{"404", equals, 404, "", "", SystemFailure, conventions.ReasonHTTP4xx, ""},
		{"201 not expected", equals, 201, "", `{"code":"0000"}`, SystemFailure, conventions.ReasonHTTPOther, ""},
		{"timeout", equals, 0, `Get "http://x": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, "", SystemFailure, conventions.ReasonTimeout, ""},
		{"refused", equals, 0, "dial tcp 127.0.0.1:1: connect: connection refused", "", SystemFailure, conventions.ReasonConnectionRefused, ""},
		{"reset", equals, 0, "read: connection reset by peer", "", SystemFailure, conventions.ReasonConnectionReset, ""},
		{"business ok", equals, 200, "", `{"msg":"x","code":"0000"}`, Success, "", "0000"},
		{"business fail", equals, 200, "", `{"code":"1001","msg":"insufficient"}`, BusinessFailure, conventions.ReasonBusinessCode, "1001"},
		{"numeric code", nested, 200, "", `{"a":[1,{"b":2}],"result":{"code":7}}`, Success, "", "7"},
		{"nested fail", nested, 200, "", `{"result":{"code":3}}`, BusinessFailure, conventions.ReasonBusinessCode, "3"},
		{"missing code", equals, 200, "", `{"msg":"no code"}`, BusinessFailure, conventions.ReasonBodyUnparsable, ""},
		{"not json", equals, 200, "", `<html>`, BusinessFailure, conventions.ReasonBodyUnparsable, ""},
		{"truncated", equals, 200, "", `{"code":`, BusinessFailure, conventions.ReasonBodyUnparsable, ""},
		{"garbled after the code", equals, 200, "", `{"code": "0000", oops`, BusinessFailure, conventions.ReasonBodyUnparsable, ""},
		{"cut after the code", equals, 200, "", `{"code":"0000","data":[1,2`, BusinessFailure, conventions.ReasonBodyUnparsable, ""},
		{"trailing garbage", equals, 200, "", `{"code":"0000"} x`, BusinessFailure, conventions.ReasonBodyUnparsable, ""},
		{"regex ok", regexBody, 200, "", `{"ok": true}`, Success, "", ""},
		{"regex fail", regexBody, 200, "", `{"ok": false}`, BusinessFailure, conventions.ReasonBusinessCode, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, reason, code := newClassifier(tc.expect).classify(tc.code, tc.err, []byte(tc.body))
			if o != tc.want || reason != tc.wantReason || code != tc.wantCode {
				t.Errorf("classify = (%v, %q, %q), want (%v, %q, %q)", o, reason, code, tc.want, tc.wantReason, tc.wantCode)
			}
		})
	}
}

func FuzzJSONField(f *testing.F) {
	f.Add([]byte(`{"code":"0000"}`), "code")
	f.Add([]byte(`{"result":{"code":7}}`), "result.code")
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		if path == "" {
			return
		}
		_, _ = jsonField(body, []string{path}) // must not panic
	})
}
