package importer

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// MaxLine is the longest input line read; a longer one is a malformed row
// (a JTL or vegeta row is well under a kilobyte; a 200 MB line is not a
// row, and must not be read into memory whole).
const MaxLine = 1 << 20

// tooLong replaces an over-long line in the stream, so that the readers
// report it as malformed at its own line number.
var tooLong = []byte("\x00perfbase: line longer than 1 MiB\n")

// lineCap passes its input through line by line, replacing each line
// longer than MaxLine by tooLong without holding it in memory.
type lineCap struct {
	r   *bufio.Reader
	buf []byte // what is left of the current line to hand out
}

func newLineCap(r io.Reader) *lineCap { return &lineCap{r: bufio.NewReaderSize(r, 64<<10)} }

func (l *lineCap) Read(p []byte) (int, error) {
	for len(l.buf) == 0 {
		line, err := l.readLine()
		if len(line) > 0 {
			l.buf = line
			break
		}
		if err != nil {
			return 0, err
		}
	}
	n := copy(p, l.buf)
	l.buf = l.buf[n:]
	return n, nil
}

// readLine returns the next line with its newline, or tooLong.
func (l *lineCap) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := l.r.ReadSlice('\n')
		if len(line)+len(chunk) > MaxLine {
			// Skip to the end of the line without keeping it.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = l.r.ReadSlice('\n')
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			return tooLong, nil
		}
		line = append(line, chunk...)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil:
			return line, err
		}
		return line, nil
	}
}

// isTooLong says whether a line (without its newline) is the marker.
func isTooLong(b []byte) bool { return bytes.Equal(b, tooLong[:len(tooLong)-1]) }
