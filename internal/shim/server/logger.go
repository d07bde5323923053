package server

import (
	"bytes"
	"io"
	"os"
	"sync"
	"time"
)

// maxLogLine is the longest CRI log line; longer lines are split into
// partial (P) lines, as the kubelet expects.
const maxLogLine = 16 << 10

// criLog writes a container's output to its CRI log file:
//
//	2024-01-01T00:00:00.000000000Z stdout F the line
//
// Both streams share one file; each line is one write.
type criLog struct {
	mu   sync.Mutex
	path string
	file *os.File
	buf  []byte
}

func openCRILog(path string) (*criLog, error) {
	l := &criLog{path: path}
	if path == "" {
		return l, nil
	}
	return l, l.reopen()
}

// reopen starts a new file at the same path (after log rotation).
func (l *criLog) reopen() error {
	if l.path == "" {
		return nil
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.file
	l.file = f
	l.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

func (l *criLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file != nil {
		l.file.Close()
		l.file = nil
	}
}

func (l *criLog) writeLine(stream string, partial bool, text []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return
	}
	b := l.buf[:0]
	b = time.Now().UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, ' ')
	b = append(b, stream...)
	if partial {
		b = append(b, " P "...)
	} else {
		b = append(b, " F "...)
	}
	b = append(b, text...)
	b = append(b, '\n')
	l.file.Write(b)
	l.buf = b
}

// copyStream reads r to its end, giving each chunk to tee (attached
// clients see output as it comes, prompts included) and writing whole
// lines to the log. It returns when r is closed (the container and
// everything it forked closed it).
func (l *criLog) copyStream(stream string, r io.Reader, tee func(stream string, data []byte)) {
	buf := make([]byte, 32<<10)
	var lines lineSplitter
	emit := func(partial bool, line []byte) { l.writeLine(stream, partial, line) }
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if tee != nil {
				tee(stream, buf[:n])
			}
			lines.feed(buf[:n], emit)
		}
		if err != nil {
			lines.flush(emit)
			return
		}
	}
}

// lineSplitter cuts a byte stream into CRI log lines: whole lines (F) at
// each newline, and partial lines (P) of maxLogLine bytes when a line is
// longer.
type lineSplitter struct{ pending []byte }

func (s *lineSplitter) feed(data []byte, emit func(partial bool, line []byte)) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			s.pending = append(s.pending, data...)
			data = nil
		} else {
			s.pending = append(s.pending, data[:i+1]...)
			data = data[i+1:]
		}
		for len(s.pending) > maxLogLine && bytes.IndexByte(s.pending, '\n') != maxLogLine {
			emit(true, s.pending[:maxLogLine])
			s.pending = append(s.pending[:0], s.pending[maxLogLine:]...)
		}
		if n := len(s.pending); n > 0 && s.pending[n-1] == '\n' {
			emit(false, trimEOL(s.pending))
			s.pending = s.pending[:0]
		}
	}
}

// flush writes what is left, a last line without a newline, as partial
// (P), as containerd does: the kubelet then adds no newline the container
// never wrote (a termination message read from the log is exact).
func (s *lineSplitter) flush(emit func(partial bool, line []byte)) {
	if len(s.pending) > 0 {
		emit(true, s.pending)
		s.pending = s.pending[:0]
	}
}

func trimEOL(line []byte) []byte {
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}
