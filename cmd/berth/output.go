package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"
)

// format is an -o value.
type format string

func (f format) validate(allowed ...string) error {
	for _, a := range allowed {
		if string(f) == a {
			return nil
		}
	}
	return fmt.Errorf("-o %q: want one of %v", f, allowed)
}

// printStructured writes v (a proto message or plain value) as JSON or YAML.
func printStructured(w io.Writer, f format, v any) error {
	var data []byte
	var err error
	if m, ok := v.(proto.Message); ok {
		data, err = protojson.MarshalOptions{Multiline: true, Indent: "  ", EmitDefaultValues: true}.Marshal(m)
	} else {
		data, err = json.MarshalIndent(v, "", "  ")
	}
	if err != nil {
		return err
	}
	if f == "yaml" {
		if data, err = yaml.JSONToYAML(data); err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

func newTable() *tabwriter.Writer { return tabwriter.NewWriter(os.Stdout, 0, 4, 3, ' ', 0) }

// humanSize prints bytes in decimal units, as docker and crictl do.
func humanSize(n uint64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	v := float64(n)
	i := 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%dB", n)
	}
	return fmt.Sprintf("%.3g%s", v, units[i])
}
