package server

import (
	"bufio"
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

// copyStream reads r to its end, writing each line to the log. It returns
// when r is closed (the container and everything it forked closed it).
func (l *criLog) copyStream(stream string, r io.Reader) {
	br := bufio.NewReaderSize(r, maxLogLine)
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull:
			l.writeLine(stream, true, line)
			continue
		case len(line) > 0 && line[len(line)-1] == '\n':
			l.writeLine(stream, false, trimEOL(line))
		case len(line) > 0:
			l.writeLine(stream, false, line) // the last line had no newline
		}
		if err != nil {
			return
		}
	}
}

func trimEOL(line []byte) []byte {
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}
