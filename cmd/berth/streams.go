package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// streamOptions are the flags of the interactive verbs.
type streamOptions struct {
	stdin     bool
	tty       bool
	websocket bool
}

// executorFor connects to a streaming URL: SPDY by default, or the
// WebSocket channel protocol (v4) that CRI streaming servers speak.
func executorFor(rawURL string, websocket bool) (remotecommand.Executor, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if websocket {
		return remotecommand.NewWebSocketExecutorForProtocols(&restclient.Config{}, http.MethodGet, u.String(), "v4.channel.k8s.io")
	}
	return remotecommand.NewSPDYExecutor(&restclient.Config{}, http.MethodPost, u)
}

// runSession streams the local terminal to a session URL. With a tty the
// local terminal is raw and its size follows SIGWINCH.
func runSession(rawURL string, o streamOptions) error {
	ex, err := executorFor(rawURL, o.websocket)
	if err != nil {
		return err
	}
	opts := remotecommand.StreamOptions{Stdout: os.Stdout, Tty: o.tty}
	if !o.tty {
		opts.Stderr = os.Stderr
	}
	if o.stdin {
		opts.Stdin = os.Stdin
	}
	if o.tty && term.IsTerminal(int(os.Stdin.Fd())) {
		state, err := term.MakeRaw(int(os.Stdin.Fd()))
		if err != nil {
			return err
		}
		defer term.Restore(int(os.Stdin.Fd()), state)
		queue := newSizeQueue()
		defer queue.stop()
		opts.TerminalSizeQueue = queue
	}
	err = ex.StreamWithContext(context.Background(), opts)
	var exitErr utilexec.ExitError
	if errors.As(err, &exitErr) && exitErr.Exited() {
		return exitError(exitErr.ExitStatus())
	}
	return err
}

// sizeQueue reports the local terminal's size: now, and on each SIGWINCH.
type sizeQueue struct {
	sizes chan remotecommand.TerminalSize
	sigs  chan os.Signal
}

func newSizeQueue() *sizeQueue {
	q := &sizeQueue{sizes: make(chan remotecommand.TerminalSize, 1), sigs: make(chan os.Signal, 1)}
	signal.Notify(q.sigs, syscall.SIGWINCH)
	q.push()
	go func() {
		for range q.sigs {
			q.push()
		}
	}()
	return q
}

func (q *sizeQueue) push() {
	w, h, err := term.GetSize(int(os.Stdout.Fd()))
	if err != nil {
		return
	}
	select {
	case q.sizes <- remotecommand.TerminalSize{Width: uint16(w), Height: uint16(h)}:
	default:
	}
}

// Next blocks until the terminal's size changes.
func (q *sizeQueue) Next() *remotecommand.TerminalSize {
	s, ok := <-q.sizes
	if !ok {
		return nil
	}
	return &s
}

func (q *sizeQueue) stop() {
	signal.Stop(q.sigs)
	close(q.sigs)
}
