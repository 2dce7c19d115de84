package main

import (
	"errors"
	"strings"
	"testing"
)

type closer struct{ err error }

func (c closer) Close() error { return c.err }

func TestCloseInto(t *testing.T) {
	t.Parallel()
	disk := errors.New("no space left on device")
	tests := []struct {
		name     string
		err      error
		close    error
		wantCode int // exit code run() would return; 0 = no error
		want     []string
	}{
		{"both fine", nil, nil, exitOK, nil},
		{"close fails", nil, disk, exitFailed, []string{"close store: no space left"}},
		{"error kept", errors.New("query failed"), nil, exitFailed, []string{"query failed"}},
		{"both kept", errors.New("query failed"), disk, exitFailed, []string{"query failed", "close store: no space left"}},
		{"exit code kept", badInput(errors.New("--month")), disk, exitBadInput, []string{"--month", "close store: no space left"}},
		{"regression kept", failed(errors.New("2 metrics regressed")), disk, exitFailed, []string{"2 metrics regressed", "close store"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.err
			closeInto(&err, closer{tc.close}, "store")
			if tc.wantCode == exitOK {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			code := exitFailed
			msg := err.Error()
			var ee *exitError
			if errors.As(err, &ee) {
				code, msg = ee.code, ee.err.Error() // what run() prints
			}
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d", code, tc.wantCode)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if tc.close != nil && !errors.Is(err, disk) {
				t.Errorf("%v does not wrap the close error", err)
			}
		})
	}
}
