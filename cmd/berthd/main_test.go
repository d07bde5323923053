package main

import (
	"errors"
	"flag"
	"testing"
)

func TestHelpAndVersionAreNoErrors(t *testing.T) {
	if err := run([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	if err := run([]string{"--version"}); err != nil {
		t.Fatalf("--version: %v", err)
	}
	if err := run([]string{"--no-such-flag"}); err == nil || errors.Is(err, flag.ErrHelp) {
		t.Fatalf("an unknown flag: %v", err)
	}
}
