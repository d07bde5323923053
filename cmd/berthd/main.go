// Command berthd is berth's daemon: it serves the CRI over a unix socket.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/berth-runtime/berth/internal/berthinfo"
	"github.com/berth-runtime/berth/internal/config"
	"github.com/berth-runtime/berth/internal/daemon"
)

func main() {
	err := run(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return // the usage went to stdout: asking for help is no failure
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "berthd:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "config":
			if len(args) == 2 && args[1] == "default" {
				fmt.Print(config.DefaultText())
				return nil
			}
			return fmt.Errorf("usage: berthd config default")
		case "version", "--version", "-version":
			fmt.Println("berthd", berthinfo.Version)
			return nil
		}
	}
	cfg, err := loadConfig(args)
	if err != nil {
		return err
	}
	setupLogging(cfg.LogLevel)
	d, err := daemon.New(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if path := os.Getenv("BERTH_CPUPROFILE"); path != "" {
		stopProfile, err := startCPUProfile(path)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	return d.Serve(ctx)
}

// startCPUProfile profiles berthd's CPU until it exits (BERTH_CPUPROFILE:
// the file; read it with `go tool pprof`), to find where a burst goes.
func startCPUProfile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("BERTH_CPUPROFILE: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("BERTH_CPUPROFILE: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// loadConfig reads flags, then the config file, then applies the flags that
// override it, and validates the result.
func loadConfig(args []string) (*config.Config, error) {
	fs := flag.NewFlagSet("berthd", flag.ContinueOnError)
	fs.SetOutput(os.Stdout)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "berthd serves the Container Runtime Interface on a unix socket.\n\n"+
			"Usage:\n  berthd [flags]\n  berthd config default   print every config key with its default\n"+
			"  berthd --version        print the version\n\nFlags:\n")
		fs.PrintDefaults()
	}
	file := fs.String("config", "", "config `file` (TOML); berthd config default prints every key")
	root := fs.String("root", "", "persistent state directory (overrides config)")
	state := fs.String("state", "", "volatile state directory (overrides config)")
	listen := fs.String("listen", "", "CRI unix socket path (overrides config)")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (overrides config)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := config.Load(*file)
	if err != nil {
		return nil, err
	}
	for dst, v := range map[*string]string{&cfg.Root: *root, &cfg.State: *state, &cfg.Listen: *listen, &cfg.LogLevel: *logLevel} {
		if v != "" {
			*dst = v
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

func setupLogging(level string) {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})))
}
