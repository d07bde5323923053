// Package crilog reads container logs in the CRI format
// ("RFC3339Nano stdout|stderr P|F text"), joining partial lines and
// following a file across rotation.
package crilog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// Message is one whole log line of one stream.
type Message struct {
	Time   time.Time
	Stream string // "stdout" or "stderr"
	Text   []byte // without the trailing newline
	// Partial: the log ends (so far) without a newline after Text, as
	// when the container's last output had none.
	Partial bool
}

// ParseLine splits one CRI log line.
func ParseLine(line []byte) (t time.Time, stream string, partial bool, text []byte, err error) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	fields := bytes.SplitN(line, []byte(" "), 4)
	if len(fields) < 3 {
		return t, "", false, nil, fmt.Errorf("malformed CRI log line %q", line)
	}
	if t, err = time.Parse(time.RFC3339Nano, string(fields[0])); err != nil {
		return t, "", false, nil, fmt.Errorf("CRI log timestamp: %w", err)
	}
	if len(fields) == 4 {
		text = fields[3]
	}
	return t, string(fields[1]), string(fields[2]) == "P", text, nil
}

// Reader assembles messages from a log stream.
type Reader struct {
	r       *bufio.Reader
	carry   []byte // an unfinished line seen at EOF
	pending map[string]*Message
}

// NewReader reads messages from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10), pending: map[string]*Message{}}
}

// Next returns the next whole message, io.EOF at the end of what is
// written so far (a partial trailing line is kept for the next call).
func (r *Reader) Next() (*Message, error) {
	for {
		line, err := r.r.ReadBytes('\n')
		if len(r.carry) > 0 {
			line, r.carry = append(r.carry, line...), nil
		}
		if err == io.EOF {
			r.carry = line
			return nil, io.EOF
		}
		if err != nil {
			return nil, err
		}
		t, stream, partial, text, perr := ParseLine(line)
		if perr != nil {
			continue // skip garbage rather than stop reading the log
		}
		m := r.pending[stream]
		if m == nil {
			m = &Message{Time: t, Stream: stream}
		}
		m.Text = append(m.Text, text...)
		if partial {
			r.pending[stream] = m
			continue
		}
		delete(r.pending, stream)
		return m, nil
	}
}

// Rest returns what is left of unfinished lines at the end of what was
// read, as Partial messages, and forgets it.
func (r *Reader) Rest() []*Message {
	var out []*Message
	for _, stream := range []string{"stdout", "stderr"} {
		if m := r.pending[stream]; m != nil {
			m.Partial = true
			out = append(out, m)
			delete(r.pending, stream)
		}
	}
	return out
}

// ReadAll returns every message of path, a last unfinished line as a
// Partial message.
func ReadAll(path string) ([]*Message, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readMessages(f)
}

// readMessages reads every message of r, a last unfinished line as a
// Partial message.
func readMessages(r io.Reader) ([]*Message, error) {
	mr := NewReader(r)
	var out []*Message
	for {
		m, err := mr.Next()
		if errors.Is(err, io.EOF) {
			return append(out, mr.Rest()...), nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

// ReadComplete returns the messages of path's complete lines and the
// offset just past the last of them, where Follow goes on: nothing written
// meanwhile is skipped or read twice (a separate size check would race the
// writer).
func ReadComplete(path string) ([]*Message, int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	end := bytes.LastIndexByte(data, '\n') + 1
	msgs, err := readMessages(bytes.NewReader(data[:end]))
	return msgs, int64(end), err
}

// Follow reads path from offset, calling emit for each message, across
// rotation (a new file at path), until stop says the writer is done and
// everything written has been read.
func Follow(path string, offset int64, emit func(*Message), stop func() bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { f.Close() }()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return err
	}
	r := NewReader(f)
	for {
		m, err := r.Next()
		if err == nil {
			emit(m)
			continue
		}
		if !errors.Is(err, io.EOF) {
			return err
		}
		if rotated(f, path) {
			nf, err := os.Open(path)
			if err == nil {
				f.Close()
				f, r = nf, NewReader(nf)
				continue
			}
		}
		if stop() {
			// One last read: the writer may have finished just now.
			for m, err := r.Next(); err == nil; m, err = r.Next() {
				emit(m)
			}
			for _, m := range r.Rest() {
				emit(m)
			}
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func rotated(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	if err1 != nil || err2 != nil {
		return false
	}
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && sa.Ino != sb.Ino
}
