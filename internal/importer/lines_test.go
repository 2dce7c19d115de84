package importer

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// TestOverlongLineIsMalformed: a line longer than MaxLine becomes one
// malformed row at its own line number; the rows around it are read.
func TestOverlongLineIsMalformed(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	b.WriteString("timeStamp,elapsed,label,responseCode,success\n")
	b.WriteString("1736899200000,20,a,200,true\n")
	b.WriteString("1736899200500," + strings.Repeat("9", 3*MaxLine) + ",a,200,true\n")
	b.WriteString("1736899201000,20,a,200,true\n")
	st, _ := ParseStatusSet("200-399")
	rd, err := NewJTLReader("big.jtl", &b, &Namer{}, st)
	if err != nil {
		t.Fatal(err)
	}
	rd.now = func() time.Time { return time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC) }
	var rows int
	var bad []string
	for {
		_, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			bad = append(bad, re.Error())
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		rows++
	}
	if rows != 2 || len(bad) != 1 || !strings.Contains(bad[0], "big.jtl:3") || !strings.Contains(bad[0], "longer than") {
		t.Fatalf("%d rows, malformed %q", rows, bad)
	}
}

// TestLineCapPassesShortLines: lines within the cap, the last one without
// a newline, come through unchanged.
func TestLineCapPassesShortLines(t *testing.T) {
	t.Parallel()
	in := "a,b\n" + strings.Repeat("x", MaxLine-1) + "\nlast"
	out, err := io.ReadAll(newLineCap(strings.NewReader(in)))
	if err != nil || string(out) != in {
		t.Fatalf("%d bytes out of %d, %v", len(out), len(in), err)
	}
}
